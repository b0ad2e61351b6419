import t from 'tap'
import { parseTagUrl, TagEncoder } from '../codec/index.js'
import { base64url, bearer, buildTestApp, startIdp, type TestApp, type TestIdp } from './helpers.js'

// What an attacker tried: odd bytes and odd tokens, races between writers and deleters, and a
// browser frontend on another origin. Every answer is a clear 4xx (or a success), never a 500.

const CONSUMER = '/api/consumer/v1'
const ADMIN = '/api/admin/v1'
const FRONTEND = 'https://app.example'

let idp: TestIdp
let ctx: TestApp
let admin: Record<string, string>
t.before(async () => {
  idp = await startIdp()
  ctx = await buildTestApp(idp, { CORS_ORIGINS: FRONTEND })
  admin = bearer(await idp.token({ sub: 'admin@clients', scope: 'admin:read admin:write' }))
})
t.teardown(async () => { await ctx?.close(); await idp?.stop() })

async function newTag (): Promise<{ id: number, serial: string, secretkey: string }> {
  return (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
}

async function registeredUser (sub: string): Promise<Record<string, string>> {
  const headers = bearer(await idp.token({ sub, scope: 'read:user write:user write:locations' }))
  const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/users`, headers })
  if (res.statusCode !== 201) throw new Error(res.body)
  return headers
}

function body (serial: string, url: string): Record<string, string> {
  const q = parseTagUrl(url)
  return { serial, statusb64: q.statb64, timeintb64: q.timeintb64, circbufb64: q.circb64, vfmtb64: q.vfmtb64 }
}

t.test('a NUL character anywhere is a 400, not a database error', async t => {
  const tag = await newTag()
  const user = await registeredUser('hard|nul')
  const requests = [
    { method: 'POST', url: `${CONSUMER}/captures`, payload: { serial: 'xdlh4Lc\u0000', statusb64: 'AAAAAACA', timeintb64: 'CgA.', circbufb64: '~', vfmtb64: 'AAIB' } },
    { method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: { description: 'a\u0000' } },
    { method: 'PUT', url: `${ADMIN}/tag/${tag.id}`, headers: admin, payload: { fwversion: '1\u0000' } },
    { method: 'POST', url: `${CONSUMER}/me/tagviews`, headers: user, payload: { tagserial: 'ab\u0000cdefg' } }
  ] as const
  for (const request of requests) {
    const res = await ctx.app.inject(request)
    t.equal(res.statusCode, res.statusCode === 404 ? 404 : 400, `${request.method} ${request.url}`)
    t.not(res.json().code, 'internal_error')
  }
})

t.test('simulate with a frontend URL that passes the format check but is no URL → 400', async t => {
  const tag = await newTag()
  for (const frontendurl of ['https://', 'https://x.example:99999/']) {
    const res = await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}/simulate?frontendurl=${encodeURIComponent(frontendurl)}`, headers: admin })
    t.equal(res.statusCode, 400, frontendurl)
  }
})

t.test('token headers with characters a header cannot carry still get the invalid_token answer', async t => {
  const payload = base64url({ sub: 'x', aud: 'wsbackend', iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 })
  for (const header of [{ alg: 'Ā' }, { alg: { x: 1 } }, { alg: 'RS256', kid: 'a\r\nX-Evil: 1' }, { alg: 'RS256', kid: 'ключ' }]) {
    const res = await ctx.app.inject({ url: `${CONSUMER}/me`, headers: bearer(`${base64url(header)}.${payload}.c2ln`) })
    t.equal(res.statusCode, 403, JSON.stringify(header))
    t.match(res.headers['www-authenticate'], /^Bearer realm="wsbackend", error="invalid_token", error_description="[\x20-\x7e]*"$/)
    t.match(res.json().code, /^(wrong_algorithm|unknown_key)$/)
    t.equal(res.headers['x-evil'], undefined)
  }
})

t.test('two Authorization headers are not "Bearer <one token>": 401', async t => {
  const good = `Bearer ${await idp.token({ sub: 'hard|two' })}`
  for (const order of [[good, 'Bearer junk'], ['Bearer junk', good], [good, good]]) {
    const res = await ctx.app.inject({ url: `${CONSUMER}/me`, headers: { authorization: order } as unknown as Record<string, string> })
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'malformed_authorization')
  }
})

t.test('CORS: the frontend may use every method the API has and read the paging and auth headers', async t => {
  const preflight = await ctx.app.inject({ method: 'OPTIONS', url: `${CONSUMER}/locations/1`, headers: { origin: FRONTEND, 'access-control-request-method': 'PATCH' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], FRONTEND)
  for (const method of ['PATCH', 'DELETE', 'PUT']) t.match(preflight.headers['access-control-allow-methods'], method)
  const list = await ctx.app.inject({ url: `${ADMIN}/tags`, headers: { ...admin, origin: FRONTEND } })
  for (const header of ['Link', 'X-Total-Count', 'WWW-Authenticate', 'Retry-After']) t.match(list.headers['access-control-expose-headers'], header)
  const stranger = await ctx.app.inject({ method: 'OPTIONS', url: `${CONSUMER}/version`, headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } })
  t.equal(stranger.headers['access-control-allow-origin'], undefined, 'other origins get nothing')
})

t.test('a window that ends before it starts is a 400 on /locations as on /samples', async t => {
  const tag = await newTag()
  for (const route of ['samples', 'locations']) {
    const res = await ctx.app.inject({ url: `${CONSUMER}/${route}?serial=${tag.serial}&starttime=2030-01-01T00:00:00Z&endtime=2020-01-01T00:00:00Z` })
    t.equal(res.statusCode, 400, route)
  }
})

t.test('a tag deleted while its captures are posted: each post is stored or 404, nothing else', async t => {
  for (let round = 0; round < 3; round++) {
    const tag = await newTag()
    const bodies = Array.from({ length: 8 }, (_, i) => {
      const encoder = new TagEncoder({ serial: tag.serial, secretKey: tag.secretkey, baseUrl: 'cupl.example', format: 1, intervalMins: 10, useHmac: true, batteryAdc: 128, resetsAllTime: i })
      for (let j = 0; j < 20; j++) encoder.pushSample(1000 + j, 500)
      return body(tag.serial, encoder.url())
    })
    const posts = bodies.map(payload => ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload }))
    const deletion = ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/tag/${tag.id}`, headers: admin })
    const statuses = (await Promise.all(posts)).map(r => r.statusCode)
    t.equal((await deletion).statusCode, 204)
    t.ok(statuses.every(s => s === 201 || s === 404), `round ${round}: ${statuses.join(' ')}`)
  }
})

t.test('a user deleted while posting captures and views: each request succeeds or is a 4xx', async t => {
  const tag = await newTag()
  const user = await registeredUser('hard|leaving')
  const captures = Array.from({ length: 8 }, (_, i) => {
    const encoder = new TagEncoder({ serial: tag.serial, secretKey: tag.secretkey, baseUrl: 'cupl.example', format: 2, intervalMins: 5, useHmac: true, batteryAdc: 128, resetsAllTime: 100 + i })
    for (let j = 0; j < 10; j++) encoder.pushSample(900 + j)
    return ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/captures`, headers: user, payload: body(tag.serial, encoder.url()) })
  })
  const views = Array.from({ length: 4 }, () => ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/tagviews`, headers: user, payload: { tagserial: tag.serial } }))
  const deletion = ctx.app.inject({ method: 'DELETE', url: `${CONSUMER}/me`, headers: user })
  const statuses = (await Promise.all([...captures, ...views])).map(r => r.statusCode)
  t.equal((await deletion).statusCode, 204)
  t.ok(statuses.every(s => s === 201 || s === 404 || s === 409), statuses.join(' '))
})

t.test('locations added while their capture is deleted: every location answered 201 survives', async t => {
  const user = await registeredUser('hard|annotator')
  for (let round = 0; round < 3; round++) {
    const tag = await newTag()
    const encoder = new TagEncoder({ serial: tag.serial, secretKey: tag.secretkey, baseUrl: 'cupl.example', format: 1, intervalMins: 10, useHmac: true, batteryAdc: 128, resetsAllTime: 3 })
    for (let j = 0; j < 40; j++) encoder.pushSample(1200 + j, 600 + j)
    const first = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/captures`, headers: user, payload: body(tag.serial, encoder.url()) })
    encoder.pushSample(1300, 700)
    const second = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/me/captures`, headers: user, payload: body(tag.serial, encoder.url()) })
    t.equal(first.statusCode, 201)
    t.equal(second.statusCode, 201)
    const samples = (await ctx.app.inject({ url: `${CONSUMER}/captures/${first.json().id}/samples?limit=7` })).json() as Array<{ id: number }>
    const adds = samples.map((s, i) => ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers: user, payload: { capturesample_id: s.id, description: `spot ${i}` } }))
    const deletion = ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/capture/${first.json().id}`, headers: admin })
    const answers = await Promise.all(adds)
    t.equal((await deletion).statusCode, 204)
    t.ok(answers.every(a => a.statusCode === 201 || a.statusCode === 404), answers.map(a => a.statusCode).join(' '))
    for (const created of answers.filter(a => a.statusCode === 201)) {
      t.equal((await ctx.app.inject({ url: `${CONSUMER}/locations/${created.json().id}` })).statusCode, 200, `round ${round}: location ${created.json().id} still there`)
    }
    const listed = (await ctx.app.inject({ url: `${CONSUMER}/locations?serial=${tag.serial}&limit=100` })).json() as unknown[]
    t.equal(listed.length, answers.filter(a => a.statusCode === 201).length, `round ${round}: as many locations as 201s`)
  }
})

t.test('CSV only when the Accept header prefers it, by its q-values; Vary: Accept', async t => {
  const tag = await newTag()
  const { url: _, ...scan } = (await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}/simulate?frontendurl=https://cupl.example&nsamples=5`, headers: admin })).json()
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: scan })).statusCode, 201)
  const cases: Array<[string, string]> = [
    ['text/csv', 'text/csv'],
    ['text/csv, application/json;q=0.5', 'text/csv'],
    ['text/csv;q=0', 'application/json'],
    ['application/json;q=1, text/csv;q=0.1', 'application/json'],
    ['text/csv-schema', 'application/json'],
    ['*/*', 'application/json']
  ]
  for (const [accept, type] of cases) {
    const res = await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${tag.serial}`, headers: { accept } })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], type, accept)
    t.match(res.headers.vary, /Accept/)
  }
})

t.test('URLs the router cannot take get the API error shape, without the URL echoed', async t => {
  const long = await ctx.app.inject({ url: `${CONSUMER}/captures/${'9'.repeat(150)}` })
  t.equal(long.statusCode, 414)
  t.match(long.json(), { statusCode: 414, error: 'URI Too Long', code: 'path_too_long', message: String })
  t.notOk(long.body.includes('9'.repeat(150)))
  const bad = await ctx.app.inject({ url: `${CONSUMER}/tag/%zz` })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { statusCode: 400, error: 'Bad Request', code: 'bad_url' })
})

t.test('a leap second is a valid date-time but no instant: 400 naming the bound, in JSON and in CSV', async t => {
  const tag = await newTag()
  for (const accept of ['application/json', 'text/csv']) {
    for (const route of ['samples', 'locations']) {
      const res = await ctx.app.inject({ url: `${CONSUMER}/${route}?serial=${tag.serial}&starttime=2026-12-31T23:59:60Z`, headers: { accept } })
      t.equal(res.statusCode, 400, `${route}, ${accept}`)
      t.match(res.json(), { code: 'bad_request', message: /starttime/ })
    }
  }
})
