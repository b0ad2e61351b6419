import { createServer, type Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { bearer, buildTestApp, countFetches, startIdp, type TestApp, type TestIdp } from './helpers.js'

// How signing keys are fetched: counted at the fetch level, with a real mock IdP.

const ME = '/api/consumer/v1/me'
const JWKS = /\/jwks$/
const DISCOVERY = /openid-configuration$/
const fetches = countFetches()
t.teardown(() => { fetches.restore() })

function withKid (token: string, kid: string): string {
  const [, payload, signature] = token.split('.')
  return `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid })).toString('base64url')}.${payload}.${signature}`
}

t.test('one IdP, one app: caching, unknown kids, rotation, outage', async t => {
  const idp = await startIdp()
  const ctx = await buildTestApp(idp, { JWKS_COOLDOWN_SECONDS: '1' })
  t.teardown(async () => { await ctx.close(); await idp.stop() })
  const token = await idp.token()

  await t.test('N valid requests fetch the JWKS once', async t => {
    fetches.reset()
    for (let i = 0; i < 20; i++) {
      t.equal((await ctx.app.inject({ url: ME, headers: bearer(token) })).statusCode, 404, 'authenticated (not registered)')
    }
    await Promise.all(Array.from({ length: 20 }, async () => await ctx.app.inject({ url: ME, headers: bearer(token) })))
    t.equal(fetches.count(JWKS), 1, 'one JWKS fetch for 40 requests')
    t.equal(fetches.count(DISCOVERY), 1, 'one discovery fetch')
  })

  await t.test('50 tokens with random unknown kids cause at most one refetch', async t => {
    await new Promise(resolve => setTimeout(resolve, 1100)) // let any earlier cooldown pass
    fetches.reset()
    const responses = await Promise.all(Array.from({ length: 50 }, async () =>
      await ctx.app.inject({ url: ME, headers: bearer(withKid(token, randomBytes(8).toString('hex'))) })))
    t.ok(responses.every(r => r.statusCode === 403 && r.json().code === 'unknown_key'), 'all 403 unknown_key')
    t.equal(fetches.count(JWKS), 1, 'concurrent: one JWKS fetch')
    for (let i = 0; i < 50; i++) {
      const res = await ctx.app.inject({ url: ME, headers: bearer(withKid(token, randomBytes(8).toString('hex'))) })
      t.equal(res.statusCode, 403)
    }
    t.equal(fetches.count(JWKS), 1, 'sequential within the cooldown: no more fetches')
    t.equal((await ctx.app.inject({ url: ME, headers: bearer(token) })).statusCode, 404, 'the known key still works')
  })

  await t.test('a rotated-in key is picked up once the cooldown allows', async t => {
    const jwk = await idp.server.issuer.keys.generate('RS256')
    await new Promise(resolve => setTimeout(resolve, 1100))
    fetches.reset()
    const rotated = await idp.token({}, { kid: jwk.kid })
    const results = await Promise.all(Array.from({ length: 10 }, async () => (await ctx.app.inject({ url: ME, headers: bearer(rotated) })).statusCode))
    t.same(results, Array(10).fill(404), 'tokens signed with the new key are accepted')
    t.equal(fetches.count(JWKS), 1, 'concurrent lookups of the new kid share one fetch')
  })

  await t.test('IdP stopped: cached keys keep working, an uncached key is 503 with Retry-After', async t => {
    const fresh = await idp.server.issuer.keys.generate('RS256')
    const uncached = await idp.token({}, { kid: fresh.kid })
    await new Promise(resolve => setTimeout(resolve, 1100))
    // a token never seen before, signed with the cached key: verified against the cached key
    const unseen = await idp.token({ jti: 'never-seen' })
    await idp.stop()
    t.equal((await ctx.app.inject({ url: ME, headers: bearer(unseen) })).statusCode, 404, 'cached key accepted')
    const started = Date.now()
    const res = await ctx.app.inject({ url: ME, headers: bearer(uncached) })
    t.equal(res.statusCode, 503)
    t.equal(res.json().code, 'idp_unavailable')
    t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After')
    t.ok(Date.now() - started < 5000, 'answered within the timeout')
  })
})

t.test('a JWKS endpoint that never answers: 503 within the configured timeout', async t => {
  const idp = await startIdp()
  const sockets = new Set<import('node:net').Socket>()
  const hanging: Server = createServer(() => { /* never answers */ })
  hanging.on('connection', socket => { sockets.add(socket) })
  await new Promise<void>(resolve => hanging.listen(0, '127.0.0.1', resolve))
  const port = (hanging.address() as { port: number }).port
  const ctx = await buildTestApp(idp, { IDP_JWKS_URL: `http://127.0.0.1:${port}/jwks`, IDP_TIMEOUT_MS: '400' })
  t.teardown(async () => {
    await ctx.close()
    await idp.stop()
    for (const socket of sockets) socket.destroy()
    await new Promise(resolve => hanging.close(resolve))
  })
  const started = Date.now()
  const res = await ctx.app.inject({ url: ME, headers: bearer(await idp.token()) })
  const elapsed = Date.now() - started
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'idp_unavailable')
  t.ok(elapsed >= 350 && elapsed < 3000, `gave up after ${elapsed} ms (timeout 400 ms)`)
})

t.test('keys seen before keep working through an IdP outage longer than the cache TTL', async t => {
  const idp = await startIdp()
  const ctx = await buildTestApp(idp, { JWKS_CACHE_TTL_SECONDS: '1' })
  t.teardown(async () => { await ctx.close(); await idp.stop() })
  const token = await idp.token()
  t.equal((await ctx.app.inject({ url: ME, headers: bearer(token) })).statusCode, 404, 'accepted while the IdP is up')
  const fresh = await idp.token({ jti: 'fresh' })
  await idp.stop()
  await new Promise(resolve => setTimeout(resolve, 2500)) // past the TTL and get-jwks' stale copy
  t.equal((await ctx.app.inject({ url: ME, headers: bearer(token) })).statusCode, 404, 'still accepted with the IdP down')
  t.equal((await ctx.app.inject({ url: ME, headers: bearer(fresh) })).statusCode, 404, 'and so is a new token signed with that key')
})
