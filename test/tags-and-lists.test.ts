import t from 'tap'
import { bearer, buildTestApp, freshDatabase, onPostgres, startIdp, type TestApp, type TestIdp } from './helpers.js'
import { buildApp } from '../app.js'

// Admin tags, the public tag view, list paging, /me/captures, and replays across instances.

const CONSUMER = '/api/consumer/v1'
const ADMIN = '/api/admin/v1'

let idp: TestIdp
let ctx: TestApp
let admin: Record<string, string>
let reader: Record<string, string>
t.before(async () => {
  idp = await startIdp()
  ctx = await buildTestApp(idp)
  admin = bearer(await idp.token({ sub: 'admin@clients', scope: 'admin:read admin:write' }))
  reader = bearer(await idp.token({ sub: 'viewer@clients', scope: 'admin:read' }))
})
t.teardown(async () => { await ctx?.close(); await idp?.stop() })

async function simulateBody (tagId: number, query = 'nsamples=10'): Promise<Record<string, string>> {
  const res = await ctx.app.inject({ url: `${ADMIN}/tag/${tagId}/simulate?frontendurl=https://cupl.example&${query}`, headers: admin })
  const { url: _, ...body } = res.json()
  return body
}

t.test('admin tags: create with generated or given serial and key, read, change, delete', async t => {
  const generated = await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })
  t.equal(generated.statusCode, 201)
  t.match(generated.json(), { id: Number, serial: /^[A-Za-z0-9]{8}$/, secretkey: /^[A-Za-z0-9_-]{16}$/, fwversion: null, description: null })
  const keys = new Set<string>()
  for (let i = 0; i < 20; i++) keys.add((await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json().secretkey)
  t.equal(keys.size, 20, 'generated keys differ')

  const given = await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: { serial: 'abcd1234', secretkey: 'AAAABBBBCCCCDDDD', fwversion: '2.1', hwversion: 'B', description: 'fridge' } })
  t.equal(given.statusCode, 201)
  const tag = given.json()
  t.match(tag, { serial: 'abcd1234', secretkey: 'AAAABBBBCCCCDDDD', fwversion: '2.1', hwversion: 'B', description: 'fridge' })

  t.equal((await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: { serial: 'abcd1234' } })).statusCode, 409, 'serial taken')
  for (const payload of [{ serial: 'short' }, { secretkey: 'tooshort' }, { description: 'x'.repeat(281) }, { serial: 'abcd 123' }, { colour: 'red' }]) {
    t.equal((await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload })).statusCode, 400, JSON.stringify(payload).slice(0, 40))
  }

  t.same((await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}`, headers: reader })).json(), tag)
  const changed = await ctx.app.inject({ method: 'PUT', url: `${ADMIN}/tag/${tag.id}`, headers: admin, payload: { description: 'freezer', fwversion: null } })
  t.equal(changed.statusCode, 200)
  t.match(changed.json(), { serial: 'abcd1234', description: 'freezer', fwversion: null, hwversion: 'B' })
  t.equal((await ctx.app.inject({ method: 'PUT', url: `${ADMIN}/tag/${tag.id}`, headers: admin, payload: { serial: generated.json().serial } })).statusCode, 409)
  t.equal((await ctx.app.inject({ method: 'PUT', url: `${ADMIN}/tag/999999`, headers: admin, payload: {} })).statusCode, 404)

  const publicView = await ctx.app.inject({ url: `${CONSUMER}/tag/abcd1234` })
  t.equal(publicView.statusCode, 200)
  t.same(Object.keys(publicView.json()).sort(), ['description', 'serial', 'timeregistered'], 'never the secret key')
  t.notMatch(publicView.body, 'AAAABBBBCCCCDDDD')
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/tag/zzzzzzzz` })).statusCode, 404)

  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/tag/${tag.id}`, headers: reader })).statusCode, 403, 'admin:read cannot delete')
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/tag/${tag.id}`, headers: admin })).statusCode, 204)
  t.equal((await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}`, headers: admin })).statusCode, 404)
})

t.test('admin routes need admin scopes', async t => {
  const user = bearer(await idp.token({ scope: 'read:user write:user' }))
  t.equal((await ctx.app.inject({ url: `${ADMIN}/tags`, headers: user })).statusCode, 403)
  t.equal((await ctx.app.inject({ url: `${ADMIN}/tags` })).statusCode, 401)
  t.equal((await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: reader, payload: {} })).statusCode, 403)
})

t.test('lists: newest first, offset/limit, Link and X-Total-Count headers, out of range → 400', async t => {
  const tag = (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
  const ids: number[] = []
  for (let n = 1; n <= 7; n++) {
    // different sample counts give different hashes: seven distinct captures
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: await simulateBody(tag.id, `nsamples=${n}`) })
    t.equal(res.statusCode, 201)
    ids.push(res.json().id)
  }
  const page = await ctx.app.inject({ url: `${CONSUMER}/captures?serial=${tag.serial}&limit=3&offset=3` })
  t.equal(page.statusCode, 200)
  t.same(page.json().map((c: { id: number }) => c.id), ids.slice().reverse().slice(3, 6), 'newest first')
  t.equal(page.headers['x-total-count'], '7')
  t.equal(page.headers.link, [
    `</api/consumer/v1/captures?serial=${tag.serial}&limit=3&offset=0>; rel="first"`,
    `</api/consumer/v1/captures?serial=${tag.serial}&limit=3&offset=0>; rel="prev"`,
    `</api/consumer/v1/captures?serial=${tag.serial}&limit=3&offset=6>; rel="next"`,
    `</api/consumer/v1/captures?serial=${tag.serial}&limit=3&offset=6>; rel="last"`
  ].join(', '))

  // following "next" from the first page visits every capture once
  const seen: number[] = []
  let next: string | undefined = `${CONSUMER}/captures?serial=${tag.serial}&limit=2`
  while (next !== undefined) {
    const res: { json: () => Array<{ id: number }>, headers: Record<string, unknown> } = await ctx.app.inject({ url: next })
    seen.push(...res.json().map(c => c.id))
    next = /<([^>]+)>; rel="next"/.exec(String(res.headers.link))?.[1]
  }
  t.same(seen, ids.slice().reverse(), 'Link rel=next pages through without gaps or repeats')

  const defaults = await ctx.app.inject({ url: `${ADMIN}/captures?tag_id=${tag.id}`, headers: admin })
  t.equal(defaults.json().length, 7)
  t.match(defaults.headers.link, /offset=0&limit=25>; rel="first"/, 'default limit 25')
  for (const query of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc', 'offset=1.5']) {
    const res = await ctx.app.inject({ url: `${CONSUMER}/captures?serial=${tag.serial}&${query}` })
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().code, 'invalid_request')
  }
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures` })).statusCode, 400, 'serial is required')
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures?serial=nosuchtg` })).statusCode, 404)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures/${ids[0]}` })).json().id, ids[0])
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures/99999999` })).statusCode, 404)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures/abc` })).statusCode, 400)
})

t.test('POST /me/captures links the capture to the registered caller', async t => {
  const tag = (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
  const alice = bearer(await idp.token({ sub: 'alice', scope: 'read:user write:user' }))
  const body = await simulateBody(tag.id, 'nsamples=20')
  let res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/captures`, headers: alice, payload: body })
  t.equal(res.statusCode, 404, 'not registered yet')
  t.equal(res.json().code, 'user_not_registered')
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/captures`, payload: body })).statusCode, 401, 'needs a token')
  await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/users`, headers: alice })
  res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/captures`, headers: alice, payload: body })
  t.equal(res.statusCode, 201)
  const mine = await ctx.app.inject({ url: `${CONSUMER}/me/captures`, headers: alice })
  t.same(mine.json().map((c: { id: number }) => c.id), [res.json().id])
  const row = await ctx.app.db.selectFrom('capture').select('user_id').where('id', '=', res.json().id).executeTakeFirstOrThrow()
  t.type(row.user_id, 'number')

  // deleting the user unlinks (not deletes) their captures
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${CONSUMER}/me`, headers: alice })).statusCode, 204)
  const after = await ctx.app.db.selectFrom('capture').select('user_id').where('id', '=', res.json().id).executeTakeFirst()
  t.same(after, { user_id: null }, 'capture kept, unlinked')
})

t.test('deleting a capture deletes its samples and nothing else', async t => {
  const tag = (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
  const id = (await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: await simulateBody(tag.id) })).json().id
  const countOf = async (captureId: number): Promise<number> => (await ctx.app.db.selectFrom('capture_sample').select('id').where('capture_id', '=', captureId).execute()).length
  t.ok(await countOf(id) > 0)
  const all = (await ctx.app.db.selectFrom('capture_sample').select('id').execute()).length
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/capture/${id}`, headers: admin })).statusCode, 204)
  t.equal(await countOf(id), 0, 'its samples are gone')
  t.equal((await ctx.app.db.selectFrom('capture_sample').select('id').execute()).length, all - 10, 'and only they')
})

t.test('deleting a tag deletes its captures and samples', async t => {
  const tag = (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
  const id = (await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: await simulateBody(tag.id) })).json().id
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/tag/${tag.id}`, headers: admin })).statusCode, 204)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures/${id}` })).statusCode, 404)
  const samples = await ctx.app.db.selectFrom('capture_sample').select('id').where('capture_id', '=', id).execute()
  t.equal(samples.length, 0)
})

if (onPostgres) {
  t.test('two server instances on one database: 20 concurrent identical posts store it once', async t => {
    const database = await freshDatabase()
    const config = { ...ctx.config, database: database.config }
    const one = await buildApp({ config, swaggerUi: false, logger: false })
    await one.ready()
    const two = await buildApp({ config, swaggerUi: false, logger: false })
    await two.ready()
    t.teardown(async () => { await one.close(); await two.close(); await database.drop() })
    const tagRes = await one.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })
    const sim = await one.inject({ url: `${ADMIN}/tag/${tagRes.json().id}/simulate?frontendurl=https://cupl.example&nsamples=188`, headers: admin })
    const { url: _, ...body } = sim.json()
    const responses = await Promise.all(Array.from({ length: 20 }, async (_x, i) =>
      await (i % 2 === 0 ? one : two).inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: body })))
    t.same(responses.map(r => r.statusCode).sort(), [201, ...Array(19).fill(409)])
    const count = await one.db.selectFrom('capture_sample').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    t.equal(count.n, 188, 'samples stored once')
  })
}
