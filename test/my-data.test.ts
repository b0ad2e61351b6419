import t from 'tap'
import { bearer, buildTestApp, startIdp, type TestApp, type TestIdp } from './helpers.js'

// Locations, tag views, "my" captures, /tag/{serial}/scanned, the admin views of users and tag
// views, and CSV downloads.

const CONSUMER = '/api/consumer/v1'
const ADMIN = '/api/admin/v1'

let idp: TestIdp
let ctx: TestApp
let admin: Record<string, string>
const users = {} as Record<'owner' | 'other' | 'bystander', Record<string, string>>
t.before(async () => {
  idp = await startIdp()
  ctx = await buildTestApp(idp)
  admin = bearer(await idp.token({ sub: 'admin@clients', scope: 'admin:read admin:write' }))
  for (const name of ['owner', 'other', 'bystander'] as const) {
    users[name] = bearer(await idp.token({ sub: `test|${name}`, scope: 'read:user write:user write:locations' }))
    await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/users`, headers: users[name] })
  }
})
t.teardown(async () => { await ctx?.close(); await idp?.stop() })

async function tagWithCapture (poster?: Record<string, string>, nsamples = 30, format = 1): Promise<{ tag: { id: number, serial: string }, capture: { id: number } }> {
  const tag = (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
  const { url: _, ...body } = (await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}/simulate?frontendurl=https://cupl.example&nsamples=${nsamples}&format=${format}`, headers: admin })).json()
  const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/${poster === undefined ? 'captures' : 'me/captures'}`, headers: poster ?? {}, payload: body })
  if (res.statusCode !== 201) throw new Error(res.body)
  return { tag, capture: res.json() }
}

t.test('locations: the tag\'s scanner may add, edit and delete; others get 401; the location shows in both sample listings', async t => {
  const { tag, capture } = await tagWithCapture(users.owner)
  const samples = (await ctx.app.inject({ url: `${CONSUMER}/captures/${capture.id}/samples` })).json()
  const sample = samples[3]

  for (const [who, headers, status] of [['anonymous', {}, 401], ['a user who never scanned the tag', users.other, 401], ['a token without write:locations', bearer(await idp.token({ sub: 'test|owner', scope: 'read:user' })), 403]] as const) {
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers, payload: { capturesample_id: sample.id, description: 'shed' } })
    t.equal(res.statusCode, status, who)
  }
  t.match((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers: users.other, payload: { capturesample_id: sample.id, description: 'shed' } })).json(), { code: 'not_scanned', message: /posted a capture of this tag/ })

  const created = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers: users.owner, payload: { capturesample_id: sample.id, description: 'shed' } })
  t.equal(created.statusCode, 201)
  const location = created.json()
  t.match(location, { id: Number, capturesample_id: sample.id, description: 'shed', timestamp: String })
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers: users.owner, payload: { capturesample_id: sample.id, description: 'again' } })).statusCode, 409, 'one location per sample')
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers: users.owner, payload: { capturesample_id: sample.id, description: 'x'.repeat(51) } })).statusCode, 400, 'description ≤ 50')
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers: users.owner, payload: { capturesample_id: 99999999, description: 'x' } })).statusCode, 404)

  const inCapture = (await ctx.app.inject({ url: `${CONSUMER}/captures/${capture.id}/samples` })).json()
  t.same(inCapture[3].location, location, 'shown in /captures/{id}/samples')
  t.ok(inCapture.filter((s: { location: unknown }) => s.location !== null).length === 1)
  const inWindow = (await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${tag.serial}` })).json()
  t.same(inWindow.find((s: { id: number }) => s.id === sample.id).location, location, 'shown in /samples')
  t.same((await ctx.app.inject({ url: `${CONSUMER}/locations?serial=${tag.serial}` })).json(), [location])
  t.same((await ctx.app.inject({ url: `${CONSUMER}/locations/${location.id}` })).json(), location)
  t.same((await ctx.app.inject({ url: `${CONSUMER}/locations?serial=${tag.serial}&endtime=${encodeURIComponent(new Date(Date.parse(sample.timestamp) - 1).toISOString())}` })).json(), [], 'window on the sample time')

  t.equal((await ctx.app.inject({ method: 'PATCH', url: `${CONSUMER}/locations/${location.id}`, headers: users.other, payload: { description: 'hacked' } })).statusCode, 401)
  t.equal((await ctx.app.inject({ method: 'PATCH', url: `${CONSUMER}/locations/${location.id}`, payload: { description: 'hacked' } })).statusCode, 401)
  const patched = await ctx.app.inject({ method: 'PATCH', url: `${CONSUMER}/locations/${location.id}`, headers: users.owner, payload: { description: 'garden shed' } })
  t.equal(patched.statusCode, 200)
  t.equal(patched.json().description, 'garden shed')

  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${CONSUMER}/locations/${location.id}`, headers: users.other })).statusCode, 401)
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${CONSUMER}/locations/${location.id}`, headers: users.owner })).statusCode, 204)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/locations/${location.id}` })).statusCode, 404)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures/${capture.id}/samples` })).json()[3].location, null)
})

t.test('GET /tag/{serial}/scanned', async t => {
  const { tag } = await tagWithCapture(users.owner)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/tag/${tag.serial}/scanned`, headers: users.owner })).json(), true)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/tag/${tag.serial}/scanned`, headers: users.other })).json(), false)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/tag/${tag.serial}/scanned` })).statusCode, 401)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/tag/nosuchtg/scanned`, headers: users.owner })).statusCode, 404)
})

t.test('tag views: create, list (distinctOnTag = newest per tag), get, delete; only one\'s own', async t => {
  const a = (await tagWithCapture()).tag
  const b = (await tagWithCapture()).tag
  const view = async (headers: Record<string, string>, serial: string): Promise<{ id: number, tagserial: string, timestamp: string }> => {
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/tagviews`, headers, payload: { tagserial: serial } })
    t.equal(res.statusCode, 201)
    return res.json()
  }
  const v1 = await view(users.owner, a.serial)
  const v2 = await view(users.owner, b.serial)
  const v3 = await view(users.owner, a.serial)
  const theirs = await view(users.other, a.serial)
  t.match(v1, { id: Number, tagserial: a.serial, timestamp: String })

  const all = (await ctx.app.inject({ url: `${CONSUMER}/me/tagviews`, headers: users.owner })).json()
  t.same(all.map((v: { id: number }) => v.id), [v3.id, v2.id, v1.id], 'newest first, only mine')
  const distinct = (await ctx.app.inject({ url: `${CONSUMER}/me/tagviews?distinctOnTag=true`, headers: users.owner })).json()
  t.same(distinct.map((v: { id: number }) => v.id), [v3.id, v2.id], 'the newest view of each tag, newest first')

  t.same((await ctx.app.inject({ url: `${CONSUMER}/me/tagviews/${v2.id}`, headers: users.owner })).json(), v2)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/me/tagviews/${theirs.id}`, headers: users.owner })).statusCode, 404, 'another user\'s view is 404')
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${CONSUMER}/me/tagviews/${theirs.id}`, headers: users.owner })).statusCode, 404)
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${CONSUMER}/me/tagviews/${v1.id}`, headers: users.owner })).statusCode, 204)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/me/tagviews/${v1.id}`, headers: users.owner })).statusCode, 404)
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/tagviews`, headers: users.owner, payload: { tagserial: 'nosuchtg' } })).statusCode, 404)
  const stranger = bearer(await idp.token({ sub: 'test|unregistered', scope: 'read:user write:user' }))
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/tagviews`, headers: stranger, payload: { tagserial: a.serial } })).json().code, 'user_not_registered')

  const adminViews = (await ctx.app.inject({ url: `${ADMIN}/tagviews?tag_id=${a.id}`, headers: admin })).json()
  t.same(adminViews.map((v: { id: number }) => v.id), [theirs.id, v3.id])
  t.match(adminViews[0], { user_id: Number, tag_id: a.id, tagserial: a.serial })
  t.equal((await ctx.app.inject({ url: `${ADMIN}/tagview/${v2.id}`, headers: admin })).json().id, v2.id)
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/tagview/${v2.id}`, headers: admin })).statusCode, 204)
  t.equal((await ctx.app.inject({ url: `${ADMIN}/tagview/${v2.id}`, headers: admin })).statusCode, 404)
})

t.test('GET /me/captures?distinctOnTag=true: the newest capture per tag, newest first, only one\'s own', async t => {
  const fresh = bearer(await idp.token({ sub: 'test|collector', scope: 'read:user write:user' }))
  await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/users`, headers: fresh })
  const one = await tagWithCapture(fresh, 10)
  const two = await tagWithCapture(fresh, 10)
  const { url: _, ...again } = (await ctx.app.inject({ url: `${ADMIN}/tag/${one.tag.id}/simulate?frontendurl=https://cupl.example&nsamples=11`, headers: admin })).json()
  const newer = (await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/captures`, headers: fresh, payload: again })).json()
  await tagWithCapture(users.other, 10)
  const all = (await ctx.app.inject({ url: `${CONSUMER}/me/captures`, headers: fresh })).json()
  t.same(all.map((c: { id: number }) => c.id), [newer.id, two.capture.id, one.capture.id])
  const distinct = (await ctx.app.inject({ url: `${CONSUMER}/me/captures?distinctOnTag=true`, headers: fresh })).json()
  t.same(distinct.map((c: { id: number }) => c.id), [newer.id, two.capture.id])
})

t.test('admin users: list, get, delete (views go, captures stay unlinked)', async t => {
  const temp = bearer(await idp.token({ sub: 'test|leaving', scope: 'read:user write:user' }))
  const user = (await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/users`, headers: temp })).json()
  const { tag, capture } = await tagWithCapture(temp)
  await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/tagviews`, headers: temp, payload: { tagserial: tag.serial } })
  const list = (await ctx.app.inject({ url: `${ADMIN}/users?limit=100`, headers: admin })).json()
  t.equal(list[0].id, user.id, 'newest first')
  t.same(Object.keys(list[0]).sort(), ['id', 'oauth_id', 'timeregistered'])
  t.same((await ctx.app.inject({ url: `${ADMIN}/user/${user.id}`, headers: admin })).json(), list[0])
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/user/${user.id}`, headers: admin })).statusCode, 204)
  t.equal((await ctx.app.inject({ url: `${ADMIN}/user/${user.id}`, headers: admin })).statusCode, 404)
  t.same((await ctx.app.inject({ url: `${ADMIN}/tagviews?tag_id=${tag.id}`, headers: admin })).json(), [], 'their tag views are gone')
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/captures/${capture.id}` })).statusCode, 200, 'their capture stays')
})

function parseCsv (text: string): Array<{ timestamp: string, temp: number, rh: number | null }> {
  const [header, ...lines] = text.trimEnd().split('\n')
  if (header !== 'timestamp,temp,rh') throw new Error(`header ${header}`)
  return lines.map(line => {
    const [timestamp, temp, rh] = line.split(',')
    return { timestamp: timestamp!, temp: Number(temp), rh: rh === '' ? null : Number(rh) }
  })
}

t.test('CSV: Accept: text/csv gives the same rows as the JSON, for /samples and /captures/{id}/samples', async t => {
  for (const format of [1, 2]) {
    const { tag, capture } = await tagWithCapture(undefined, format === 1 ? 150 : 300, format)
    const json = (await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${tag.serial}&limit=100` })).json()
      .concat((await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${tag.serial}&limit=100&offset=100` })).json())
      .concat((await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${tag.serial}&limit=100&offset=200` })).json())
    const csv = await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${tag.serial}`, headers: { accept: 'text/csv' } })
    t.equal(csv.statusCode, 200)
    t.match(csv.headers['content-type'], /^text\/csv/)
    t.match(csv.headers['content-disposition'], `attachment; filename="${tag.serial}.csv"`)
    t.same(parseCsv(csv.body), json.map((s: { timestamp: string, temp: number, rh: number | null }) => ({ timestamp: s.timestamp, temp: s.temp, rh: s.rh })), `format ${format}: /samples CSV = JSON (${json.length} rows)`)
    const captureCsv = await ctx.app.inject({ url: `${CONSUMER}/captures/${capture.id}/samples`, headers: { accept: 'text/csv' } })
    t.same(parseCsv(captureCsv.body).length, json.length)
    t.same(parseCsv(captureCsv.body), parseCsv(csv.body), 'one capture: the same rows')
  }
})

t.test('CSV of a long window streams in batches and stays complete', async t => {
  const tag = (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
  const rows = 4500
  await ctx.app.db.insertInto('capture').values({
    tag_id: tag.id, user_id: null, timestamp: new Date('2026-01-01T00:00:00Z'), batvoltagemv: 3000, loopcount: 0, cursorpos: 23,
    encoderversion: 2, format: 2, timeintmins: 1, elapsedmins: 0, md5: '00000000000000', nsamples: rows
  }).execute()
  const capture = await ctx.app.db.selectFrom('capture').select('id').where('tag_id', '=', tag.id).executeTakeFirstOrThrow()
  await ctx.app.db.insertInto('capture_sample').values(Array.from({ length: rows }, (_, i) => ({
    capture_id: capture.id, tag_id: tag.id, timestamp: new Date(Date.parse('2026-01-01T00:00:00Z') - i * 60_000),
    temp: i / 10, rh: null, rawtemp: i % 4000, rawrh: null, resetsalltime: 0, seq: rows - i, canonical: true
  }))).execute()
  const csv = await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${tag.serial}`, headers: { accept: 'text/csv' } })
  const parsed = parseCsv(csv.body)
  t.equal(parsed.length, rows, 'more rows than one batch')
  t.ok(parsed.every((r, i) => r.temp === i / 10), 'in order, none lost or repeated at batch boundaries')
})
