// npm run bench:auth — req/s of a bare Fastify route, an open route of ours and a protected
// route with a cached key (autocannon, 16 connections, 10 s each). Target: protected ≥ 40 % of bare.
import { load, record, stamp, startBenchServer, table } from './lib.js'

const server = await startBenchServer()
// the same app with the verified-token cache off: every request decodes and verifies its token
const uncached = await startBenchServer({ TOKEN_CACHE_SIZE: '0' })
try {
  const headers = { authorization: `Bearer ${server.userToken}` }
  const check = await fetch(`${server.ours}/api/bench/protected`, { headers })
  if (check.status !== 200) throw new Error(`protected route answered ${check.status}`)
  const results = [
    await load('bare Fastify route', { url: `${server.bare}/ok` }),
    await load('open route of ours (GET /api/consumer/v1/version)', { url: `${server.ours}/api/consumer/v1/version` }),
    await load('protected route, one client reusing its token (verified-token cache)', { url: `${server.ours}/api/bench/protected`, headers }),
    await load('protected route, verified-token cache off (decode, cached key, RS256 verify every request)', {
      url: `${uncached.ours}/api/bench/protected`, headers: { authorization: `Bearer ${uncached.userToken}` }
    })
  ]
  const ratio = (i: number): string => `${(results[i]!.requestsPerSec / results[0]!.requestsPerSec * 100).toFixed(0)} %`
  const md = [
    '### Authentication (`npm run bench:auth`)',
    '',
    table(results),
    '',
    `Protected / bare (target ≥ 40 %): **${ratio(2)}** for a client reusing its token, **${ratio(3)}** with the verified-token cache off (\`TOKEN_CACHE_SIZE=0\`), as for a token never seen before: every request decodes the JWT, finds the cached key and checks the RS256 signature.`,
    'The protected handler is the bare one, behind our whole stack: security headers, CORS, request ids, the error handler, the auth guard. Our app logs at `warn` here; autocannon runs in another process on the same 2 cores.',
    '',
    stamp('npm run bench:auth')
  ].join('\n')
  console.log(md)
  await record('auth', md)
} finally {
  server.stop()
  uncached.stop()
}
