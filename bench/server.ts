// The servers the HTTP benchmarks load, in a process of their own so that the load generator
// does not share its event loop: our app (DATABASE_URL, else in-memory PGlite), with a dev IdP
// and one extra protected route, plus a bare Fastify route for comparison. Prints JSON:
// { bare, ours, userToken, adminToken }.
import Fastify from 'fastify'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'
import { startDevIdp } from '../plugins/dev-idp.js'
import { bearer } from '../plugins/swagger.js'

const idp = await startDevIdp({ audience: 'wsbackend' })
const base = loadConfig({ ...process.env, IDP_ISSUER: idp.issuer, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', DATABASE_URL: process.env.DATABASE_URL ?? 'memory://' })

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

const token = async (sub: string, scope: string): Promise<string> => await idp.server.issuer.buildToken({
  expiresIn: 24 * 3600,
  scopesOrTransform: (_h, p) => { Object.assign(p, { sub, aud: base.audience, scope }) }
})
const address = (server: { server: import('node:http').Server }): string => `http://127.0.0.1:${(server.server.address() as { port: number }).port}`
console.log(JSON.stringify({
  bare: address(bare),
  ours: address(app),
  userToken: await token('bench|user', base.scopes.readUser),
  adminToken: await token('bench@clients', `${base.scopes.adminRead} ${base.scopes.adminWrite}`)
}))

process.on('SIGTERM', () => {
  void (async () => { await app.close(); await bare.close(); await idp.stop(); process.exit(0) })()
})
