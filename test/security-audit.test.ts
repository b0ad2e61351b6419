import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import auth from '../plugins/auth.js'
import errors from '../plugins/errors.js'
import idp from '../plugins/idp.js'
import securityAudit from '../plugins/security-audit.js'

// Fail closed: a route that declares security but would be served without the guard stops start-up.

const authOptions = { issuer: 'http://127.0.0.1:1', audience: 'wsbackend', clockToleranceSeconds: 0, jwksCacheTtlSeconds: 60, jwksCooldownSeconds: 30, tokenCacheSize: 100 }
const secured = { schema: { security: [{ bearerAuth: ['read:user'] }] } }

async function base (): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(errors)
  await app.register(securityAudit)
  await app.register(idp, { issuer: authOptions.issuer, jwksUrl: null, timeoutMs: 100 })
  return app
}

t.test('a secured route in a scope without the auth plugin makes ready() fail', async t => {
  const app = await base()
  await app.register(async (api: FastifyInstance) => { await api.register(auth, authOptions) })
  await app.register(async (sibling: FastifyInstance) => { sibling.get('/oops', secured, async () => 'open!') })
  await t.rejects(async () => { await app.ready() }, /not guarded by the auth plugin: GET \/oops/)
  await app.close()
})

t.test('a secured route registered before the auth plugin makes ready() fail', async t => {
  const app = await base()
  await app.register(async (api: FastifyInstance) => {
    api.get('/early', secured, async () => 'open!')
    await api.register(auth, authOptions)
  })
  await t.rejects(async () => { await app.ready() }, /not guarded.*\/early/)
  await app.close()
})

t.test('a secured route in the auth scope is guarded and start-up succeeds', async t => {
  const app = await base()
  await app.register(async (api: FastifyInstance) => {
    await api.register(auth, authOptions)
    api.get('/fine', secured, async () => 'secret')
  })
  await app.ready()
  const res = await app.inject({ url: '/fine' })
  t.equal(res.statusCode, 401)
  await app.close()
})

t.test('an unusable security declaration is refused at registration', async t => {
  for (const security of [[], [{}], [{ apiKey: ['x'] }]]) {
    const app = await base()
    await t.rejects(async () => {
      await app.register(async (api: FastifyInstance) => {
        await api.register(auth, authOptions)
        api.get('/bad', { schema: { security } }, async () => 'x')
      })
      await app.ready()
    }, JSON.stringify(security))
    await app.close()
  }
})
