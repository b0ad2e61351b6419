// npm run bench:auth — req/s of a bare Fastify route, an open route of ours and a protected
// route with a cached key (autocannon, 16 connections, 10 s each). Target: protected ≥ 40 % of bare.
import { load, record, stamp, startBenchServer, table } from './lib.js'

const server = await startBenchServer()
try {
  const headers = { authorization: `Bearer ${server.userToken}` }
  const check = await fetch(`${server.ours}/api/bench/protected`, { headers })
  if (check.status !== 200) throw new Error(`protected route answered ${check.status}`)
  const results = [
    await load('bare Fastify route', { url: `${server.bare}/ok` }),
    await load('open route of ours (GET /api/consumer/v1/version)', { url: `${server.ours}/api/consumer/v1/version` }),
    await load('protected route, cached key (RS256 verify + scope check)', { url: `${server.ours}/api/bench/protected`, headers })
  ]
  const ratio = results[2]!.requestsPerSec / results[0]!.requestsPerSec
  const md = `### Authentication (\`npm run bench:auth\`)\n\n${table(results)}\n\nProtected / bare: **${(ratio * 100).toFixed(0)} %** (target ≥ 40 %). Our app logs at \`warn\` here; the same handler runs behind helmet, CORS, request ids and the error handler.\n\n${stamp('npm run bench:auth')}`
  console.log(md)
  await record('auth', md)
} finally {
  server.stop()
}
