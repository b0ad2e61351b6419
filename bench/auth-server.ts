// The servers `npm run bench:auth` loads, in a process of their own: a bare Fastify route, and
// our app with a protected route whose handler is the same. Prints their addresses as JSON.
import Fastify from 'fastify'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'
import { startDevIdp } from '../plugins/dev-idp.js'
import { bearer } from '../plugins/swagger.js'

const idp = await startDevIdp({ audience: 'wsbackend' })
const base = loadConfig({ ...process.env, IDP_ISSUER: idp.issuer, LOG_LEVEL: 'warn', DATABASE_URL: process.env.DATABASE_URL ?? 'memory://' })

const bare = Fastify({ logger: false })
bare.get('/ok', async () => ({ status: 'ok' }))
await bare.listen({ port: 0, host: '127.0.0.1' })

const app = await buildApp({
  config: { ...base, idpIssuer: idp.issuer },
  swaggerUi: false,
  extraApiRoutes: async api => {
    api.get('/bench/protected', { schema: { security: bearer(base.scopes.readUser) } }, async () => ({ status: 'ok' }))
  }
})
await app.listen({ port: 0, host: '127.0.0.1' })

const token = await idp.server.issuer.buildToken({ scopesOrTransform: (_h, p) => { Object.assign(p, { sub: 'bench|1', aud: 'wsbackend', scope: base.scopes.readUser }) } })
const port = (server: typeof bare): number => (server.server.address() as { port: number }).port
console.log(JSON.stringify({ bare: `http://127.0.0.1:${port(bare)}`, ours: `http://127.0.0.1:${port(app as unknown as typeof bare)}`, token }))

process.on('SIGTERM', () => {
  void (async () => { await app.close(); await bare.close(); await idp.stop(); process.exit(0) })()
})
