import { randomBytes } from 'node:crypto'
import t from 'tap'
import { decode, MessageIntegrityError } from '../codec/index.js'
import { loadVectors, type Vector } from './codec/vectors.js'
import { bearer, buildTestApp, startIdp, type TestApp, type TestIdp } from './helpers.js'

// The capture path on real firmware output: every vector of ../shared/vectors posted to
// POST /captures and read back.

const CONSUMER = '/api/consumer/v1'
const ADMIN = '/api/admin/v1'
const vectors = loadVectors().vectors

let idp: TestIdp
let ctx: TestApp
let admin: Record<string, string>
t.before(async () => {
  idp = await startIdp()
  ctx = await buildTestApp(idp)
  admin = bearer(await idp.token({ sub: 'admin@clients', scope: 'admin:read admin:write' }))
})
t.teardown(async () => { await ctx?.close(); await idp?.stop() })

function serial (): string {
  return randomBytes(6).toString('base64url').slice(0, 8)
}

async function registerTag (secretkey: string): Promise<{ id: number, serial: string }> {
  const res = await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: { serial: serial(), secretkey } })
  if (res.statusCode !== 201) throw new Error(`POST /tags: ${res.statusCode} ${res.body}`)
  return res.json()
}

function bodyOf (v: Vector, tagSerial: string): Record<string, string> {
  const d = v.decode_input
  return { serial: tagSerial, statusb64: d.statb64, timeintb64: d.timeintb64, circbufb64: d.circb64, vfmtb64: d.vfmtb64 }
}

/** The HMAC a vector's values would carry under its key (its own hash being MD5). */
function hmacOf (v: Vector): string {
  const d = v.decode_input
  try {
    decode({ statb64: d.statb64, timeintb64: d.timeintb64, circb64: d.circb64, vfmtb64: d.vfmtb64, secretKey: d.secretkey, useHmac: true, scanTime: new Date() })
  } catch (err) {
    if (err instanceof MessageIntegrityError) return err.calculatedHash
  }
  throw new Error(`${v.id}: its hash is a valid HMAC`)
}

async function allPages<T> (url: string): Promise<T[]> {
  const items: T[] = []
  for (let offset = 0; ; offset += 100) {
    const res = await ctx.app.inject({ url: `${url}${url.includes('?') ? '&' : '?'}offset=${offset}&limit=100` })
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
    const page = res.json() as T[]
    items.push(...page)
    if (page.length < 100) return items
  }
}

async function rowCounts (): Promise<number[]> {
  const count = async (table: 'capture' | 'capture_status' | 'capture_sample'): Promise<number> =>
    (await ctx.app.db.selectFrom(table).select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n
  return [await count('capture'), await count('capture_status'), await count('capture_sample')]
}

interface ExpectedResult {
  status: { loopcount: number, resetsalltime: number, batvoltagemv: number | null, resetcause: Record<string, boolean> }
  endmarkerpos: number
  elapsedmins: number
  timeintervalmins: number
  hash: string
  hashtype: string
  format_code: number
  encoder_major_version: number
  samples: Array<{ timestamp: string, temp: number, rh: number | null }>
}

const validHmac = vectors.filter(v => v.expected.ok && (v.expected.result as unknown as ExpectedResult).hashtype === 'HMAC_MD5')
const validMd5 = vectors.filter(v => v.expected.ok && (v.expected.result as unknown as ExpectedResult).hashtype === 'MD5')
const failing = vectors.filter(v => !v.expected.ok)

t.test('every valid HMAC vector is stored and read back exactly', async t => {
  t.ok(validHmac.length >= 20, `${validHmac.length} vectors`)
  for (const v of validHmac) {
    const expected = v.expected.ok ? v.expected.result as unknown as ExpectedResult : undefined as never
    const tag = await registerTag(v.decode_input.secretkey)
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: bodyOf(v, tag.serial) })
    t.equal(res.statusCode, 201, `${v.id}: 201`)
    if (res.statusCode !== 201) { t.comment(res.body); continue }
    const capture = res.json()
    t.match(capture, {
      tagserial: tag.serial,
      loopcount: expected.status.loopcount,
      batvoltagemv: expected.status.batvoltagemv,
      cursorpos: expected.endmarkerpos,
      version: expected.encoder_major_version,
      format: expected.format_code,
      timeintmins: expected.timeintervalmins,
      elapsedmins: expected.elapsedmins,
      md5: expected.hash,
      nsamples: expected.samples.length,
      status: {
        parent_capture: capture.id,
        resetsalltime: expected.status.resetsalltime,
        brownout: expected.status.resetcause.brownout,
        clockfail: expected.status.resetcause.clockfail,
        lpm5wakeup: expected.status.resetcause.lpm5wakeup,
        misc: expected.status.resetcause.misc,
        supervisor: expected.status.resetcause.supervisor,
        watchdog: expected.status.resetcause.watchdog,
        scantimeout: expected.status.resetcause.scantimeout
      }
    }, `${v.id}: capture and status fields`)

    const samples = await allPages<{ id: number, capture_id: number, timestamp: string, temp: number, rh: number | null, location: unknown }>(`${CONSUMER}/captures/${capture.id}/samples`)
    t.equal(samples.length, expected.samples.length, `${v.id}: ${expected.samples.length} samples`)
    t.same(samples.map(s => [s.temp, s.rh]), expected.samples.map(s => [s.temp, s.rh]), `${v.id}: readings equal, newest first`)
    const scan = Date.parse(capture.timestamp)
    const newest = scan - expected.elapsedmins * 60_000
    const expectedNewest = expected.samples.length > 0 ? Date.parse(expected.samples[0]!.timestamp) : 0
    t.same(
      samples.map(s => Date.parse(s.timestamp) - newest),
      expected.samples.map(s => Date.parse(s.timestamp) - expectedNewest),
      `${v.id}: timestamps at the vector's offsets, the newest at scan time − elapsed`
    )
    t.ok(samples.every(s => s.capture_id === capture.id && s.location === null), `${v.id}: sample fields`)
  }
})

t.test('valid MD5 vectors are refused with 401: only HMAC is accepted', async t => {
  t.ok(validMd5.length >= 3)
  for (const v of validMd5) {
    const tag = await registerTag(v.decode_input.secretkey)
    const before = await rowCounts()
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: bodyOf(v, tag.serial) })
    t.equal(res.statusCode, 401, v.id)
    t.match(res.json(), { code: 'hash_mismatch', ecode: 103, urlhash: /^[0-9a-f]{14}$/ }, `${v.id}: the URL's hash`)
    // the HMAC these values should carry, which would let anyone forge a capture: never shown
    const hmac = hmacOf(v)
    t.notOk(res.body.includes(hmac), `${v.id}: the expected HMAC is not given away`)
    t.same(await rowCounts(), before, `${v.id}: nothing stored`)
  }
})

const STATUS_OF: Record<string, [number, string, number]> = {
  MessageIntegrityError: [401, 'hash_mismatch', 103],
  InvalidMajorVersionError: [422, 'invalid_major_version', 101],
  InvalidFormatError: [422, 'invalid_format', 102],
  NoCircularBufferError: [400, 'no_circular_buffer', 104],
  DelimiterNotFoundError: [422, 'delimiter_not_found', 105]
}

t.test('every failing vector gets the SPEC status and leaves no row behind', async t => {
  t.ok(failing.length >= 15)
  for (const v of failing) {
    const error = v.expected.ok ? undefined as never : v.expected.error
    // reference crashes are malformed input to us; the tag error with battery code 0 is sound data
    const [status, code, ecode] = STATUS_OF[error.class] ?? (v.id === 'f1-tagerror-batv0' ? STATUS_OF.NoCircularBufferError! : [400, 'malformed_capture', 100])
    const tag = await registerTag(v.decode_input.secretkey)
    const before = await rowCounts()
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: bodyOf(v, tag.serial) })
    t.equal(res.statusCode, status, `${v.id} (${error.class}) → ${status}`)
    t.match(res.json(), { statusCode: status, code, ecode, message: String }, `${v.id}: error body`)
    t.same(await rowCounts(), before, `${v.id}: no capture, status or sample stored`)
  }
})

t.test('replays: the same values twice → 409 naming the first capture', async t => {
  const v = validHmac.find(x => x.id === 'f1-hmac-n188')!
  const tag = await registerTag(v.decode_input.secretkey)
  const first = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: bodyOf(v, tag.serial) })
  t.equal(first.statusCode, 201)
  const before = await rowCounts()
  const again = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: bodyOf(v, tag.serial) })
  t.equal(again.statusCode, 409)
  t.match(again.json(), { code: 'capture_exists', capture_id: first.json().id })
  t.same(await rowCounts(), before)
})

t.test('20 concurrent identical posts store the capture exactly once', async t => {
  const v = validHmac.find(x => x.id === 'f2-hmac-n376')!
  const tag = await registerTag(v.decode_input.secretkey)
  const before = await rowCounts()
  const responses = await Promise.all(Array.from({ length: 20 }, async () =>
    await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: bodyOf(v, tag.serial) })))
  const codes = responses.map(r => r.statusCode).sort()
  t.same(codes, [201, ...Array(19).fill(409)], 'one 201, nineteen 409')
  const id = responses.find(r => r.statusCode === 201)!.json().id
  t.ok(responses.filter(r => r.statusCode === 409).every(r => r.json().capture_id === id), 'each 409 names the stored capture')
  const after = await rowCounts()
  t.same(after, [before[0]! + 1, before[1]! + 1, before[2]! + 376])
})

t.test('unknown serial → 404; missing, ill-typed or non-JSON bodies → 400', async t => {
  const v = validHmac[0]!
  let res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: bodyOf(v, 'nosuchtg') })
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'tag_not_found')
  const body = bodyOf(v, 'whatever')
  for (const field of Object.keys(body)) {
    const { [field]: _, ...missing } = body
    res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: missing })
    t.equal(res.statusCode, 400, `missing ${field}`)
    t.equal(res.json().code, 'invalid_request')
    res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: { ...body, [field]: 12345 } })
    t.equal(res.statusCode, 400, `${field} a number`)
  }
  res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, headers: { 'content-type': 'application/json' }, payload: '{"serial": ' })
  t.equal(res.statusCode, 400, 'broken JSON')
  t.equal(res.json().code, 'invalid_body')
  res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, headers: { 'content-type': 'text/plain' }, payload: 'x=1' })
  t.equal(res.statusCode, 400, 'plain text')
  res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'serial=x' })
  t.equal(res.statusCode, 415, 'a form: unsupported media type')
  t.equal(res.json().code, 'unsupported_media_type')
  res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, headers: { 'content-type': 'application/json' }, payload: '[]' })
  t.equal(res.statusCode, 400, 'a JSON array')
})

t.test('randomly mutated vectors always get a 4xx, never a 500, and never a half-written capture', async t => {
  const bases = validHmac.filter(v => v.decode_input.circb64.length > 0).slice(0, 6)
  const tags = await Promise.all(bases.map(async v => await registerTag(v.decode_input.secretkey)))
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!=+/é\u0000 '
  let created = 0
  for (let i = 0; i < 400; i++) {
    const k = i % bases.length
    const body = bodyOf(bases[k]!, tags[k]!.serial)
    const fields = ['statusb64', 'timeintb64', 'circbufb64', 'vfmtb64'] as const
    const field = fields[Math.floor(Math.random() * fields.length)]!
    const chars = [...body[field]!]
    const mutations = 1 + Math.floor(Math.random() * 3)
    for (let m = 0; m < mutations; m++) {
      const at = Math.floor(Math.random() * (chars.length + 1))
      const op = Math.random()
      const c = alphabet[Math.floor(Math.random() * alphabet.length)]!
      if (op < 0.4) chars[at] = c
      else if (op < 0.7) chars.splice(at, 0, c)
      else chars.splice(at, 1)
    }
    if (chars.join('') === body[field]) continue // the mutations cancelled out
    body[field] = chars.join('')
    const before = await rowCounts()
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: body })
    if (res.statusCode === 201) {
      created++
      t.equal(field === 'circbufb64' || field === 'timeintb64' || field === 'vfmtb64', true, 'only unauthenticated parts may change and still verify')
      continue
    }
    if (res.statusCode >= 500 || res.statusCode < 400) t.fail(`${res.statusCode} for ${field}: ${res.body}`)
    const after = await rowCounts()
    if (after.some((n, j) => n !== before[j])) t.fail(`rows changed on a ${res.statusCode}`)
  }
  t.pass(`400 mutated posts, ${created} accepted (unauthenticated changes), none 5xx`)
})

t.test('simulate → post round trip, both formats, wrapping sample counts', async t => {
  const tag = await registerTag('simulatesecret16')
  for (const [format, nsamples] of [[1, 1], [1, 100], [1, 188], [1, 189], [1, 385], [2, 1], [2, 7], [2, 376], [2, 377], [2, 769]] as const) {
    const interval = 1 + nsamples % 13
    const sim = await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}/simulate?frontendurl=https://cupl.example/app&nsamples=${nsamples}&format=${format}&smplintervalmins=${interval}`, headers: admin })
    t.equal(sim.statusCode, 200)
    const { url, ...body } = sim.json()
    t.match(url, /^https:\/\/cupl\.example\/app\/\?t=/)
    const posted = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: body })
    t.equal(posted.statusCode, 201, `format ${format}, ${nsamples} samples`)
    const capture = posted.json()
    // after a wrap the buffer holds 187–188 samples (format 1) or 373–376 (format 2)
    const capacity = format === 1 ? 188 : 376
    if (nsamples <= capacity) t.equal(capture.nsamples, nsamples, `${nsamples} samples stored`)
    else t.ok(capture.nsamples >= capacity - (format === 1 ? 1 : 3) && capture.nsamples <= capacity, `${capture.nsamples} samples stored after the wrap`)
    t.equal(capture.timeintmins, interval)
    t.equal(capture.format, format)
    t.equal(capture.batvoltagemv, 3000)
    const samples = await allPages<{ timestamp: string, temp: number, rh: number | null }>(`${CONSUMER}/captures/${capture.id}/samples`)
    t.equal(samples.length, capture.nsamples)
    t.ok(samples.every((s, i) => i === 0 || Date.parse(samples[i - 1]!.timestamp) - Date.parse(s.timestamp) === interval * 60_000), 'spaced by the interval')
    t.ok(samples.every(s => s.temp > 15 && s.temp < 25 && (format === 2 ? s.rh === null : s.rh! > 40 && s.rh! < 70)), 'plausible readings')
  }
  const tagErr = await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}/simulate?frontendurl=http://cupl.example&tagerror=true&bor=true`, headers: admin })
  t.match(tagErr.json(), { url: /^http:\/\/cupl\.example\/\?t=.*&q=$/, circbufb64: '' })
  const posted = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: (({ url: _, ...b }) => b)(tagErr.json()) })
  t.equal(posted.statusCode, 400)
  t.equal(posted.json().ecode, 104)
  const md5 = await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}/simulate?frontendurl=https://x.example&usehmac=false&nsamples=3`, headers: admin })
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/captures`, payload: (({ url: _, ...b }) => b)(md5.json()) })).statusCode, 401, 'an MD5 URL is refused')
  const bad = await ctx.app.inject({ url: `${ADMIN}/tag/${tag.id}/simulate?frontendurl=ftp://x&nsamples=3`, headers: admin })
  t.equal(bad.statusCode, 400)
})
