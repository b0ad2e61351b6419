import t from 'tap'
import { parseTagUrl, rawToRh, rawToTemp, TagEncoder } from '../codec/index.js'
import { bearer, buildTestApp, startIdp, type TestApp, type TestIdp } from './helpers.js'

// GET /samples: overlapping captures of one tag, built with the encoder and posted at chosen
// scan times, give back every pushed reading exactly once, in order, dated by the earliest
// capture that holds it.

const CONSUMER = '/api/consumer/v1'
const ADMIN = '/api/admin/v1'
const MINUTE = 60_000
const T0 = Date.parse('2026-03-01T00:00:00Z')

let clock = new Date(T0)
let idp: TestIdp
let ctx: TestApp
let admin: Record<string, string>
t.before(async () => {
  idp = await startIdp()
  ctx = await buildTestApp(idp, {}, undefined, () => clock)
  admin = bearer(await idp.token({ sub: 'admin@clients', scope: 'admin:read admin:write' }))
})
t.teardown(async () => { await ctx?.close(); await idp?.stop() })

interface Expected { timestamp: number, temp: number, rh: number | null }
interface SampleOut { id: number, capture_id: number, timestamp: string, temp: number, rh: number | null, location: unknown }

async function newTag (): Promise<{ id: number, serial: string, secretkey: string }> {
  return (await ctx.app.inject({ method: 'POST', url: `${ADMIN}/tags`, headers: admin, payload: {} })).json()
}

/** Readings that stay flat for three samples at a time, as a real room does (never 4095). */
function reading (j: number): [number, number] {
  const step = Math.floor(j / 3)
  return [(step * 37 + 500) % 4000, (step * 53 + 900) % 4000]
}

interface Scenario {
  format: 1 | 2
  interval: number
  /** readings pushed between scans, in order; the sum is the stream's length */
  gaps: number[]
  /** the tag resets (fresh buffer, resets-all-time + 1) after this many readings */
  resetAfter?: number
  /** post the captures in this order (indices into the scans) instead of as scanned */
  postOrder?: number[]
  /** post to /me/captures with these headers instead of anonymously */
  poster?: Record<string, string>
}

const SECONDS = [0, 30, 59]

/** Runs a scenario: pushes readings, scans, posts. Returns the tag and the expected time series, newest first. */
async function play (s: Scenario): Promise<{ serial: string, expected: Expected[], captureIds: number[] }> {
  const tag = await newTag()
  let resets = 7
  const make = (): TagEncoder => new TagEncoder({ serial: tag.serial, secretKey: tag.secretkey, baseUrl: 'cupl.example', format: s.format, intervalMins: s.interval, useHmac: true, batteryAdc: 128, resetsAllTime: resets })
  let encoder = make()
  let j = 0
  const scans: Array<{ time: number, body: Record<string, string>, newest: number, seconds: number }> = []
  for (const [n, gap] of s.gaps.entries()) {
    for (let g = 0; g < gap; g++) {
      if (s.resetAfter === j) { resets++; encoder = make() }
      const [rd0, rd1] = reading(j)
      encoder.pushSample(rd0, rd1)
      j++
    }
    const elapsed = n % s.interval // minutes since the newest sample, within its interval
    const seconds = SECONDS[n % SECONDS.length]!
    encoder.setElapsedMinutes(elapsed)
    const q = parseTagUrl(encoder.url())
    scans.push({
      time: T0 + (j - 1) * s.interval * MINUTE + elapsed * MINUTE + seconds * 1000,
      body: { serial: tag.serial, statusb64: q.statb64, timeintb64: q.timeintb64, circbufb64: q.circb64, vfmtb64: q.vfmtb64 },
      newest: j - 1,
      seconds
    })
  }

  // which readings each capture holds (from its answer), and the earliest capture holding each
  const firstSeenIn = new Map<number, { time: number, seconds: number }>()
  const captureIds: number[] = []
  const held: Array<[number, number]> = []
  for (const index of s.postOrder ?? scans.map((_, i) => i)) {
    const scan = scans[index]!
    clock = new Date(scan.time)
    const res = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/${s.poster === undefined ? 'captures' : 'me/captures'}`, payload: scan.body, headers: s.poster ?? {} })
    if (res.statusCode !== 201) throw new Error(`scan ${index}: ${res.statusCode} ${res.body}`)
    captureIds.push(res.json().id)
    held[index] = [scan.newest - res.json().nsamples + 1, scan.newest]
  }
  scans.forEach((scan, index) => {
    const [from, to] = held[index]!
    for (let r = Math.max(from, s.resetAfter !== undefined && scan.newest >= s.resetAfter ? s.resetAfter : 0); r <= to; r++) {
      const seen = firstSeenIn.get(r)
      if (seen === undefined || seen.time > scan.time) firstSeenIn.set(r, scan)
    }
  })
  const expected = [...firstSeenIn.entries()].sort((a, b) => b[0] - a[0]).map(([r, scan]) => {
    const [rd0, rd1] = reading(r)
    return { timestamp: T0 + r * s.interval * MINUTE + scan.seconds * 1000, temp: rawToTemp(rd0), rh: s.format === 1 ? rawToRh(rd1) : null }
  })
  return { serial: tag.serial, expected, captureIds }
}

async function window (serial: string, query = '', pageSize = 100): Promise<SampleOut[]> {
  const out: SampleOut[] = []
  for (let offset = 0; ; offset += pageSize) {
    const res = await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${serial}${query}&offset=${offset}&limit=${pageSize}` })
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
    const page = res.json() as SampleOut[]
    out.push(...page)
    if (page.length < pageSize) return out
  }
}

function simplify (samples: SampleOut[]): Expected[] {
  return samples.map(s => ({ timestamp: Date.parse(s.timestamp), temp: s.temp, rh: s.rh }))
}

const iso = (ms: number): string => encodeURIComponent(new Date(ms).toISOString())

for (const format of [1, 2] as const) {
  const capacity = format === 1 ? 187 : 373
  for (const interval of [1, 2, 10, 60, 1440]) {
    t.test(`format ${format}, every ${interval} min: overlapping scans, wraps and a reset → each reading once`, async t => {
      // scans closer together than the buffer holds, so consecutive captures overlap; the stream
      // wraps the buffer several times; one reset half-way
      const gap = Math.floor(capacity * 0.55)
      const gaps = [40, gap, gap - 3, gap + 5, 17, gap, gap - 11, gap, 1, gap]
      const total = gaps.reduce((a, b) => a + b, 0)
      const { serial, expected } = await play({ format, interval, gaps, resetAfter: Math.floor(total * 0.6) })
      const all = await window(serial)
      t.equal(all.length, expected.length, `${expected.length} distinct samples`)
      t.same(simplify(all), expected, 'the pushed readings, once each, newest first, dated by the earliest capture')
      t.equal(new Set(all.map(s => s.id)).size, all.length, 'no sample twice')
    })
  }
}

t.test('captures posted out of order: the earliest scan\'s copies win all the same', async t => {
  const { serial, expected } = await play({ format: 1, interval: 2, gaps: [60, 50, 50, 50, 50], postOrder: [4, 2, 3, 0, 1] })
  t.same(simplify(await window(serial)), expected)
})

t.test('window bounds are inclusive; offset/limit page through without gaps or repeats', async t => {
  const { serial, expected } = await play({ format: 1, interval: 10, gaps: [100, 80, 80] })
  const a = expected[20]!.timestamp
  const b = expected[70]!.timestamp
  const inWindow = await window(serial, `&starttime=${iso(b)}&endtime=${iso(a)}`)
  t.same(simplify(inWindow), expected.slice(20, 71), 'both bounds included')
  const justInside = await window(serial, `&starttime=${iso(b + 1)}&endtime=${iso(a - 1)}`)
  t.same(simplify(justInside), expected.slice(21, 70), 'one millisecond less at each end drops both')
  const paged = await window(serial, `&starttime=${iso(b)}&endtime=${iso(a)}`, 7)
  t.same(paged.map(s => s.id), inWindow.map(s => s.id), 'pages of 7 concatenate to the same list')
  const res = await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${serial}&starttime=${iso(a)}&endtime=${iso(b)}` })
  t.equal(res.statusCode, 400, 'start after end')
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/samples?serial=${serial}&starttime=yesterday` })).statusCode, 400)
  t.equal((await ctx.app.inject({ url: `${CONSUMER}/samples?serial=nosuchtg` })).statusCode, 404)
})

t.test('deleting the earliest capture hands its samples to the next one, location included', async t => {
  const alice = bearer(await idp.token({ sub: 'alice|del', scope: 'read:user write:user write:locations' }))
  t.equal((await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/users`, headers: alice })).statusCode, 201)
  const { serial, expected, captureIds } = await play({ format: 1, interval: 5, gaps: [50, 20, 20], poster: alice })
  const before = await window(serial)
  t.same(simplify(before), expected)
  const located = before.find(s => s.capture_id === captureIds[0])!
  const loc = await ctx.app.inject({ method: 'POST', url: `${CONSUMER}/locations`, headers: alice, payload: { capturesample_id: located.id, description: 'cellar' } })
  t.equal(loc.statusCode, 201)

  t.equal((await ctx.app.inject({ method: 'DELETE', url: `${ADMIN}/capture/${captureIds[0]}`, headers: admin })).statusCode, 204)
  const after = await window(serial)
  t.equal(after.length, expected.length, 'the second capture held every sample of the first: none lost')
  t.ok(after.every(s => s.capture_id !== captureIds[0]), 'none from the deleted capture')
  // the second scan was 30 s past its minute, the first 0 s: its copies are dated 30 s later
  t.same(simplify(after), expected.map((e, k) => k >= expected.length - 50 ? { ...e, timestamp: e.timestamp + 30_000 } : e))
  const relocated = after.filter(s => s.location !== null)
  t.equal(relocated.length, 1, 'the location moved to the surviving copy')
  t.match(relocated[0], { temp: located.temp, rh: located.rh, capture_id: captureIds[1], location: { id: loc.json().id, description: 'cellar' } })
})
