import { createPublicKey } from 'node:crypto'
import t, { type Test } from 'tap'
import { bearer, buildTestApp, countFetches, forgeToken, startIdp, type TestApp, type TestIdp } from './helpers.js'

// The token contract of SPEC §2, shown against GET /me (needs read:user) with real RS256
// tokens from an in-process oauth2-mock-server.

let idp: TestIdp
let other: TestIdp
let ctx: TestApp
const fetches = countFetches()
const ME = '/api/consumer/v1/me'
const now = (): number => Math.floor(Date.now() / 1000)

t.before(async () => {
  idp = await startIdp()
  other = await startIdp()
  ctx = await buildTestApp(idp)
  // register the default subject so an accepted token answers 200
  const res = await ctx.app.inject({ method: 'POST', url: '/api/consumer/v1/users', headers: bearer(await idp.token()) })
  if (res.statusCode !== 201) throw new Error(`setup: POST /users answered ${res.statusCode} ${res.body}`)
})
t.teardown(async () => {
  fetches.restore()
  await ctx?.close()
  await idp?.stop()
  await other?.stop()
})

async function call (headers: Record<string, string>): Promise<{ status: number, body: Record<string, unknown>, wwwAuthenticate: string | undefined }> {
  const res = await ctx.app.inject({ method: 'GET', url: ME, headers })
  return { status: res.statusCode, body: res.json(), wwwAuthenticate: res.headers['www-authenticate'] as string | undefined }
}

async function expectRejected (tt: Test, headers: Record<string, string>, reason: string): Promise<void> {
  const { status, body, wwwAuthenticate } = await call(headers)
  tt.equal(status, 403, 'a token that fails validation is 403')
  tt.equal(body.code, reason, `reason code ${reason}`)
  tt.equal(body.statusCode, 403)
  tt.equal(body.error, 'Forbidden')
  tt.type(body.message, 'string')
  tt.match(wwwAuthenticate, /^Bearer realm="wsbackend", error="invalid_token"/)
}

t.test('a valid token with the right scope is accepted', async tt => {
  const { status, body } = await call(bearer(await idp.token()))
  tt.equal(status, 200)
  tt.equal(body.oauth_id, 'google-oauth2|1157')
})

t.test('no Authorization header: 401 with a Bearer challenge', async tt => {
  const { status, body, wwwAuthenticate } = await call({})
  tt.equal(status, 401)
  tt.equal(body.code, 'missing_token')
  tt.equal(wwwAuthenticate, 'Bearer realm="wsbackend"')
})

t.test('Authorization that is not "Bearer <one token>": 401', async tt => {
  const token = await idp.token()
  for (const header of [`Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${token}`, 'Bearer', 'Bearer ', `Bearer ${token} extra`, `Bearer  ${token}`]) {
    const { status, body, wwwAuthenticate } = await call({ authorization: header })
    tt.equal(status, 401, JSON.stringify(header.slice(0, 12)))
    tt.equal(body.code, 'malformed_authorization')
    tt.equal(wwwAuthenticate, 'Bearer realm="wsbackend"')
  }
})

t.test('garbage instead of a JWT: 403 malformed_token', async tt => {
  await expectRejected(tt, bearer('garbage'), 'malformed_token')
  await expectRejected(tt, bearer('a.b.c'), 'malformed_token')
  await expectRejected(tt, bearer(`${Buffer.from('[1]').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.x`), 'malformed_token')
})

t.test('expired token: 403 token_expired', async tt => {
  await expectRejected(tt, bearer(await idp.token({ exp: now() - 3600, iat: now() - 7200, nbf: now() - 7200 })), 'token_expired')
})

t.test('expiry within the configured clock tolerance is still accepted', async tt => {
  const { status } = await call(bearer(await idp.token({ exp: now() - 5 })))
  tt.equal(status, 200, 'default tolerance is 30 s')
})

t.test('token not yet valid (nbf or iat in the future): 403 token_not_yet_valid', async tt => {
  await expectRejected(tt, bearer(await idp.token({ nbf: now() + 3600 })), 'token_not_yet_valid')
  await expectRejected(tt, bearer(await idp.token({ iat: now() + 3600 })), 'token_not_yet_valid')
})

t.test('wrong audience: 403 wrong_audience', async tt => {
  await expectRejected(tt, bearer(await idp.token({ aud: 'someone-else' })), 'wrong_audience')
  await expectRejected(tt, bearer(await idp.token({ aud: ['a', 'b'] })), 'wrong_audience')
})

t.test('an audience array that contains ours is accepted', async tt => {
  const { status } = await call(bearer(await idp.token({ aud: ['https://tenant.example/userinfo', 'wsbackend'] })))
  tt.equal(status, 200)
})

t.test('wrong issuer: 403 wrong_issuer, and no request to any JWKS', async tt => {
  fetches.reset()
  await expectRejected(tt, bearer(await idp.token({ iss: 'https://evil.example/' })), 'wrong_issuer')
  await expectRejected(tt, bearer(await idp.token({ iss: `${idp.issuer}/` })), 'wrong_issuer')
  tt.equal(fetches.count(/./), 0, 'no outbound request')
})

t.test('a token from a second IdP with its own keys is refused without contacting it', async tt => {
  fetches.reset()
  await expectRejected(tt, bearer(await other.token()), 'wrong_issuer')
  tt.equal(fetches.count(/./), 0)
})

t.test('a second IdP\'s token claiming our issuer and our kid: 403 bad_signature', async tt => {
  const forged = await other.token({ iss: idp.issuer }, { header: { kid: idp.kid } })
  await expectRejected(tt, bearer(forged), 'bad_signature')
})

t.test('a tampered payload: 403 bad_signature', async tt => {
  const [header, , signature] = (await idp.token({ scope: 'read:user' })).split('.')
  const payload = Buffer.from(JSON.stringify({ iss: idp.issuer, aud: 'wsbackend', sub: 'google-oauth2|1157', exp: now() + 600, scope: 'admin:write read:user' })).toString('base64url')
  await expectRejected(tt, bearer(`${header}.${payload}.${signature}`), 'bad_signature')
})

t.test('alg none: 403 wrong_algorithm', async tt => {
  const payload = { iss: idp.issuer, aud: 'wsbackend', sub: 'x', exp: now() + 600, scope: 'read:user' }
  await expectRejected(tt, bearer(forgeToken({ alg: 'none', typ: 'JWT', kid: idp.kid }, payload)), 'wrong_algorithm')
  await expectRejected(tt, bearer(forgeToken({ alg: 'none', typ: 'JWT' }, payload)), 'wrong_algorithm')
})

t.test('HS256 signed with the IdP\'s public key: 403 wrong_algorithm', async tt => {
  const jwk = idp.server.issuer.keys.get(idp.kid)!
  const pem = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e } as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
  const payload = { iss: idp.issuer, aud: 'wsbackend', sub: 'google-oauth2|1157', exp: now() + 600, scope: 'read:user' }
  await expectRejected(tt, bearer(forgeToken({ alg: 'HS256', typ: 'JWT', kid: idp.kid }, payload, pem)), 'wrong_algorithm')
})

t.test('unknown kid: 403 unknown_key', async tt => {
  const token = await idp.token()
  const [, payload, signature] = token.split('.')
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'no-such-key' })).toString('base64url')
  await expectRejected(tt, bearer(`${header}.${payload}.${signature}`), 'unknown_key')
  const noKid = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url')
  await expectRejected(tt, bearer(`${noKid}.${payload}.${signature}`), 'unknown_key')
})

t.test('missing exp, aud or sub: 403 missing_claim', async tt => {
  for (const claim of ['exp', 'aud', 'sub']) {
    const { status, body } = await call(bearer(await idp.token({ [claim]: undefined })))
    tt.equal(status, 403, claim)
    tt.equal(body.code, 'missing_claim', claim)
    tt.match(body.message, claim)
  }
})

t.test('missing scope: 403 insufficient_scope naming the missing scope', async tt => {
  const { status, body, wwwAuthenticate } = await call(bearer(await idp.token({ scope: 'write:user' })))
  tt.equal(status, 403)
  tt.equal(body.code, 'insufficient_scope')
  tt.same(body.missing_scopes, ['read:user'])
  tt.equal(wwwAuthenticate, 'Bearer realm="wsbackend", error="insufficient_scope", scope="read:user"')
})

t.test('scopes given as permissions (Auth0 RBAC) or scp are accepted', async tt => {
  tt.equal((await call(bearer(await idp.token({ scope: undefined, permissions: ['read:user'] })))).status, 200)
  tt.equal((await call(bearer(await idp.token({ scope: 'openid', scp: ['read:user'] })))).status, 200)
  tt.equal((await call(bearer(await idp.token({ scope: undefined, permissions: ['write:user'] })))).status, 403)
})

t.test('no failure anywhere in the matrix is a 500', async tt => {
  const inputs = ['', 'Bearer', 'Bearer ..', 'Bearer .eyJ9.', 'Bearer eyJhbGciOiJSUzI1NiJ9.bnVsbA.AA', `Bearer ${'a'.repeat(10000)}`,
    `Bearer ${forgeToken({ alg: 'RS256', kid: 5 }, { iss: 'x' })}`, `Bearer ${forgeToken({ alg: 'RS256', kid: idp.kid }, { iss: idp.issuer, aud: 'wsbackend', sub: 'a', exp: 'soon' })}`,
    `Bearer ${forgeToken({ alg: 'RS256', kid: idp.kid }, { iss: idp.issuer, aud: 'wsbackend', sub: 'a', exp: now() + 60, nbf: 'x' })}`]
  for (const authorization of inputs) {
    const res = await ctx.app.inject({ method: 'GET', url: ME, headers: { authorization } })
    tt.ok(res.statusCode === 401 || res.statusCode === 403, `${authorization.slice(0, 30)} → ${res.statusCode}`)
  }
})

t.test('tokens and Authorization headers never reach the log', async tt => {
  const lines: string[] = []
  const { buildApp, loggerOptions } = await import('../app.js')
  const { Writable } = await import('node:stream')
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const app = await buildApp({
    config: ctx.config,
    logger: { ...(loggerOptions('trace') as object), stream } as never,
    swaggerUi: false
  })
  const token = await idp.token()
  await app.inject({ method: 'GET', url: ME, headers: bearer(token) })
  await app.inject({ method: 'GET', url: ME, headers: bearer(`${token}x`) })
  await app.close()
  tt.ok(lines.length > 0, 'something was logged')
  const all = lines.join('\n')
  tt.notOk(all.includes(token.split('.')[2]!), 'no token signature in the log')
  tt.notOk(/Bearer\s/i.test(all.replace(/Bearer realm[^"]*"[^"]*"/g, '')), 'no Authorization header in the log')
})

t.test('the dev IdP gives a user token the audience asked for, as it does a client token', async t => {
  const grants: Array<[string, Record<string, string>]> = [['password', { username: 'dev|aud', password: 'x' }], ['client_credentials', { client_id: 'c' }]]
  for (const [grantType, grant] of grants) {
    const res = await fetch(idp.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: grantType, ...grant, scope: 'read:user', aud: 'another-api' }) })
    const { access_token: token } = await res.json() as { access_token: string }
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud: unknown }
    t.equal(payload.aud, 'another-api', grantType)
    t.match((await call(bearer(token))).body, { code: 'wrong_audience' }, `${grantType}: refused by an API with another audience`)
  }
})
