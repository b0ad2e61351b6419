import t from 'tap'
import { bearer, buildTestApp, startIdp, type TestApp, type TestIdp } from './helpers.js'

// POST /users, GET /me, DELETE /me, and how IdP failures at /userinfo are answered.

let idp: TestIdp
let ctx: TestApp
t.before(async () => {
  idp = await startIdp()
  ctx = await buildTestApp(idp)
})
t.teardown(async () => { await ctx?.close(); await idp?.stop() })

const USERS = '/api/consumer/v1/users'
const ME = '/api/consumer/v1/me'

t.test('register, read, delete', async t => {
  const token = await idp.token({ sub: 'github|42' })
  const created = await ctx.app.inject({ method: 'POST', url: USERS, headers: bearer(token) })
  t.equal(created.statusCode, 201)
  const user = created.json()
  t.equal(user.oauth_id, 'github|42')
  t.type(user.id, 'number')
  t.match(user.timeregistered, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
  t.equal(user.userinfo.sub, 'github|42', 'userinfo from the IdP, for the caller')
  t.equal(user.userinfo.name, 'Dev User github|42')

  const again = await ctx.app.inject({ method: 'POST', url: USERS, headers: bearer(token) })
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'user_exists')

  const me = await ctx.app.inject({ url: ME, headers: bearer(token) })
  t.equal(me.statusCode, 200)
  t.same(me.json(), { ...user, userinfo: user.userinfo })

  const deleted = await ctx.app.inject({ method: 'DELETE', url: ME, headers: bearer(token) })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  const gone = await ctx.app.inject({ url: ME, headers: bearer(token) })
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().code, 'user_not_registered')
  t.equal((await ctx.app.inject({ method: 'DELETE', url: ME, headers: bearer(token) })).statusCode, 404)
})

t.test('only the sub is stored: no name, email or picture in the database', async t => {
  const token = await idp.token({ sub: 'auth0|privacy' })
  t.equal((await ctx.app.inject({ method: 'POST', url: USERS, headers: bearer(token) })).statusCode, 201)
  const rows = await ctx.app.db.selectFrom('app_user').selectAll().where('oauth_id', '=', 'auth0|privacy').execute()
  t.same(Object.keys(rows[0]!).sort(), ['id', 'oauth_id', 'timeregistered'])
})

t.test('scopes: POST /users needs write:user, GET /me read:user', async t => {
  const readOnly = await idp.token({ sub: 'x|1', scope: 'read:user' })
  const res = await ctx.app.inject({ method: 'POST', url: USERS, headers: bearer(readOnly) })
  t.equal(res.statusCode, 403)
  t.same(res.json().missing_scopes, ['write:user'])
  const writeOnly = await idp.token({ sub: 'x|1', scope: 'write:user' })
  t.equal((await ctx.app.inject({ url: ME, headers: bearer(writeOnly) })).statusCode, 403)
})

t.test('userinfo failures are 502/503, never 500, and write nothing', async t => {
  const token = await idp.token({ sub: 'fail|1' })
  const failWith = (mutate: (res: { statusCode: number, body: Record<string, unknown> }) => void): () => void => {
    const listener = (res: { statusCode: number, body: Record<string, unknown> }): void => { mutate(res) }
    idp.server.service.on('beforeUserinfo', listener)
    return () => { idp.server.service.off('beforeUserinfo', listener) }
  }

  let restore = failWith(res => { res.statusCode = 500; res.body = { error: 'boom' } })
  let res = await ctx.app.inject({ method: 'POST', url: USERS, headers: bearer(token) })
  restore()
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'userinfo_failed')
  t.equal((await ctx.app.db.selectFrom('app_user').select('id').where('oauth_id', '=', 'fail|1').execute()).length, 0, 'not registered')

  restore = failWith(res => { res.body = { sub: 'someone-else' } })
  res = await ctx.app.inject({ method: 'POST', url: USERS, headers: bearer(token) })
  restore()
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'userinfo_sub_mismatch')

  t.equal((await ctx.app.inject({ method: 'POST', url: USERS, headers: bearer(token) })).statusCode, 201)
  await idp.stop()
  res = await ctx.app.inject({ url: ME, headers: bearer(token) })
  t.equal(res.statusCode, 503, 'IdP down: the key is cached, userinfo is not')
  t.equal(res.json().code, 'idp_unavailable')
  t.ok(res.headers['retry-after'])
})
