// npm run bench:samples — latency of one tag's 1-day window (GET /samples) on a PostgreSQL
// database of 100 000 samples and on one of 10 million, seeded by the generator below.
// BENCH_DATABASE_URL names the server to use (default postgres://postgres@127.0.0.1:5432/postgres);
// databases of our own are created there and dropped afterwards (BENCH_KEEP=1 keeps them).
//
// The generator writes what real scanning stores, straight in SQL (encoding and posting 10 M
// samples through the API would take hours and measure the write path, not the read):
// - a typical tag logs every 10 minutes and is scanned 100 times; each scan reads 100 samples,
//   50 of them new and 50 already read by the previous scan (10 000 stored rows, 5 050 physical
//   samples, 35 days);
// - the 10 M database also holds one heavy tag like the original system's worst case: 2 000
//   scans of 125 samples, 6 new per scan (250 000 rows, 12 119 physical samples, 84 days);
// - each copy of a sample carries its scan's jitter (0–59 s), and the copy from the earliest scan
//   is canonical, as `insertCapture` decides it; captures are written in scan order across all
//   tags, so one tag's rows are spread over the table as they would be in production.
import pg from 'pg'
import { machine, record, startBenchServer } from './lib.js'

const adminUrl = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3)
const INTERVAL_MINS = 10

interface Shape { captures: number, samplesPerCapture: number, newPerScan: number }
const TYPICAL: Shape = { captures: 100, samplesPerCapture: 100, newPerScan: 50 }
const HEAVY: Shape = { captures: 2000, samplesPerCapture: 125, newPerScan: 6 }
const BATCHES = TYPICAL.captures
const physical = (s: Shape): number => (s.captures - 1) * s.newPerScan + s.samplesPerCapture

interface Seeded { url: string, typicalTags: number, heavyTag: number | null, rows: number, bytes: number, seconds: number, now: Date }

function shapeRows (shape: Shape, tagIds: string, firstCaptureId: string, ks: string): string {
  return `SELECT t AS tag_id, k, ${firstCaptureId} + k AS cid, ${shape.samplesPerCapture} AS s, ${shape.newPerScan} AS step,
      $1::timestamptz - ${(physical(shape) - 1) * INTERVAL_MINS + 5} * interval '1 minute' AS base
    FROM ${tagIds}, ${ks}`
}

async function seed (name: string, typicalTags: number, heavy: boolean): Promise<Seeded> {
  const dbName = `wsb_bench_${name}_${Date.now()}`
  const admin = new pg.Client({ connectionString: adminUrl.toString() })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${dbName}`
  // the app creates the schema (migrations run at start)
  const server = await startBenchServer({ DATABASE_URL: url.toString() })
  server.stop()
  await new Promise(resolve => setTimeout(resolve, 1000))

  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  const started = Date.now()
  const now = new Date(Math.floor(started / 60000) * 60000)
  const heavyTag = heavy ? typicalTags + 1 : null
  await client.query(`
    INSERT INTO tag (id, serial, secretkey) OVERRIDING SYSTEM VALUE
    SELECT t, 'B' || lpad(t::text, 7, '0'), substr(md5('key' || t), 1, 16) FROM generate_series(1, $1::int) t`, [typicalTags + (heavy ? 1 : 0)])
  const perBatchHeavy = HEAVY.captures / BATCHES
  for (let b = 0; b < BATCHES; b++) {
    await client.query('BEGIN')
    const parts = [shapeRows(TYPICAL, `generate_series(1, ${typicalTags}) AS t`, `(t - 1) * ${TYPICAL.captures} + 1`, `(VALUES (${b})) AS ks(k)`)]
    if (heavyTag !== null) {
      parts.push(shapeRows(HEAVY, `(VALUES (${heavyTag})) AS ts(t)`, `${typicalTags * TYPICAL.captures + 1}`,
        `generate_series(${b * perBatchHeavy}, ${(b + 1) * perBatchHeavy - 1}) AS k`))
    }
    await client.query(`CREATE TEMP TABLE gen ON COMMIT DROP AS ${parts.join(' UNION ALL ')}`, [now])
    // scan time = newest sample's time + whole elapsed minutes (k mod 10) + the scan's jitter
    await client.query(`
      INSERT INTO capture (id, tag_id, timestamp, batvoltagemv, loopcount, cursorpos, encoderversion, format,
                           timeintmins, elapsedmins, md5, nsamples) OVERRIDING SYSTEM VALUE
      SELECT cid, tag_id, base + ((k * step + s - 1) * ${INTERVAL_MINS} + k % 10) * interval '1 minute' + (k * 7 % 60) * interval '1 second',
             3000, (k * step + s) / 192, 23, 1, 1, ${INTERVAL_MINS}, k % 10, substr(md5(cid::text), 1, 14), s
      FROM gen ORDER BY k, tag_id`)
    await client.query(`
      INSERT INTO capture_status (parent_capture, resetsalltime, brownout, clockfail, lpm5wakeup, misc, supervisor, watchdog, scantimeout)
      SELECT cid, 0, false, false, false, false, false, false, false FROM gen`)
    // canonical copy of sample `seq`: the first scan that read it, ceil((seq - s + 1) / step)
    await client.query(`
      INSERT INTO capture_sample (capture_id, tag_id, timestamp, temp, rh, rawtemp, rawrh, resetsalltime, seq, canonical)
      SELECT g.cid, g.tag_id, g.base + seq * interval '${INTERVAL_MINS} minutes' + (g.k * 7 % 60) * interval '1 second',
             r.rawtemp / 32.0 - 40, r.rawrh / 8.0, r.rawtemp, r.rawrh, 0, seq,
             g.k = GREATEST(0, (seq - g.s + g.step) / g.step)
      FROM gen g, generate_series(g.k * g.step, g.k * g.step + g.s - 1) seq,
           LATERAL (SELECT (1800 + (seq * 37 + g.tag_id * 11) % 400)::int2 AS rawtemp, (400 + (seq * 13) % 300)::int2 AS rawrh) r
      ORDER BY g.k, g.tag_id, seq DESC`)
    await client.query('COMMIT')
    if (b % 10 === 9) process.stdout.write(`  ${name}: ${b + 1}/${BATCHES} scan rounds written\n`)
  }
  for (const table of ['tag', 'capture', 'capture_status', 'capture_sample']) {
    await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`)
  }
  await client.query('VACUUM ANALYZE')
  const rows = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM capture_sample')).rows[0]!.n)
  // every physical sample has exactly one canonical copy
  const canonical = await client.query<{ n: string, distinct: string }>('SELECT count(*) AS n, count(DISTINCT (tag_id, seq)) AS distinct FROM capture_sample WHERE canonical')
  const expected = typicalTags * physical(TYPICAL) + (heavy ? physical(HEAVY) : 0)
  if (Number(canonical.rows[0]!.n) !== expected || Number(canonical.rows[0]!.distinct) !== expected) throw new Error(`generator bug: ${JSON.stringify(canonical.rows[0])} canonical copies, expected ${expected}`)
  const bytes = Number((await client.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n)
  await client.end()
  return { url: url.toString(), typicalTags, heavyTag, rows, bytes, seconds: Math.round((Date.now() - started) / 1000), now }
}

async function drop (url: string): Promise<void> {
  if (process.env.BENCH_KEEP === '1') return
  const admin = new pg.Client({ connectionString: adminUrl.toString() })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`)
  await admin.end()
}

interface Latency { name: string, requests: number, p50: number, p99: number, mean: number, failures: number }

/**
 * One client, back to back: each request a random tag of the kind and a random 1-day window
 * inside its history, timed one by one (autocannon reports whole milliseconds, too coarse for a
 * ratio of ~2 ms latencies). A warm-up of the same length as WARMUP comes first and is not counted.
 */
async function windows (name: string, base: string, seeded: Seeded, tags: number[], shape: Shape): Promise<Latency> {
  const dayMs = 24 * 3600 * 1000
  const historyMs = (physical(shape) - 1) * INTERVAL_MINS * 60000
  const first = seeded.now.getTime() - historyMs
  const request = async (): Promise<boolean> => {
    const tag = tags[Math.floor(Math.random() * tags.length)]!
    const start = first + Math.floor(Math.random() * (historyMs - dayMs) / 60000) * 60000
    const q = new URLSearchParams({ serial: `B${String(tag).padStart(7, '0')}`, starttime: new Date(start).toISOString(), endtime: new Date(start + dayMs).toISOString(), limit: '100' })
    const res = await fetch(`${base}/api/consumer/v1/samples?${q.toString()}`)
    const body = await res.json() as unknown[]
    // every window holds a full day of a 10-minute tag: 144 samples, of which a page of 100
    return res.status === 200 && Array.isArray(body) && body.length === 100
  }
  for (const until = Date.now() + WARMUP * 1000; Date.now() < until;) await request()
  const times: number[] = []
  let failures = 0
  for (const until = Date.now() + DURATION * 1000; Date.now() < until;) {
    const t0 = performance.now()
    if (!await request()) failures++
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))]!
  return { name, requests: times.length, p50: at(0.5), p99: at(0.99), mean: times.reduce((a, b) => a + b, 0) / times.length, failures }
}

function latencyTable (rows: Latency[]): string {
  return ['| case | requests | p50 ms | p99 ms | mean ms | failures |', '|---|---:|---:|---:|---:|---:|',
    ...rows.map(r => `| ${r.name} | ${r.requests} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.mean.toFixed(2)} | ${r.failures} |`)].join('\n')
}

async function explain (url: string, tagId: number, now: Date): Promise<string> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const end = new Date(now.getTime() - 10 * 24 * 3600 * 1000)
  const start = new Date(end.getTime() - 24 * 3600 * 1000)
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY OFF, TIMING OFF)
    SELECT s.id, s.capture_id, s.timestamp, s.temp, s.rh, l.id FROM capture_sample s LEFT JOIN location l ON l.capturesample_id = s.id
    WHERE s.tag_id = $1 AND s.canonical AND s.timestamp >= $2 AND s.timestamp <= $3
    ORDER BY s.timestamp DESC, s.id DESC OFFSET 0 LIMIT 100`, [tagId, start, end])
  await client.end()
  return rows.map(r => r['QUERY PLAN']).join('\n')
}

const results: Latency[] = []
const facts: string[] = []
let plan = ''

/** Seeds a database, runs `measure` against a server on it, then drops it. */
async function onSeeded (name: string, typicalTags: number, heavy: boolean, measure: (base: string, seeded: Seeded) => Promise<void>): Promise<Seeded> {
  const seeded = await seed(name, typicalTags, heavy)
  try {
    const server = await startBenchServer({ DATABASE_URL: seeded.url })
    try { await measure(server.ours, seeded) } finally { server.stop() }
  } finally {
    await new Promise(resolve => setTimeout(resolve, 1000))
    await drop(seeded.url)
  }
  return seeded
}

const typicalTagsOf = (seeded: Seeded): number[] => Array.from({ length: seeded.typicalTags }, (_, i) => i + 1)

console.log('seeding the 100 000-sample database…')
const small = await onSeeded('100k', 10, false, async (base, seeded) => {
  results.push(await windows('100 k-sample database, typical tag (10 000 stored rows)', base, seeded, typicalTagsOf(seeded), TYPICAL))
})
facts.push(`100 k database: ${small.rows} sample rows, ${(small.bytes / 1e6).toFixed(0)} MB, seeded in ${small.seconds} s.`)

console.log('seeding the 10 000 000-sample database (a few minutes)…')
const big = await onSeeded('10m', 999, true, async (base, seeded) => {
  results.push(await windows('10 M-sample database, typical tag (10 000 stored rows)', base, seeded, typicalTagsOf(seeded), TYPICAL))
  results.push(await windows('10 M-sample database, heavy tag (2 000 captures, 250 000 stored rows)', base, seeded, [seeded.heavyTag!], HEAVY))
  plan = await explain(seeded.url, seeded.heavyTag!, seeded.now)
})
facts.push(`10 M database: ${big.rows} sample rows (${big.typicalTags} typical tags and one heavy tag), ${(big.bytes / 1e9).toFixed(1)} GB, seeded in ${big.seconds} s.`)

const [smallTypical, bigTypical, bigHeavy] = results as [Latency, Latency, Latency]
const ratio = (a: Latency, b: Latency): string => (a.p50 / b.p50).toFixed(2)
const failures = results.filter(r => r.failures > 0)
const md = [
  '### De-duplicated sample window (`npm run bench:samples`)',
  '',
  '`GET /api/consumer/v1/samples?serial=…&starttime=…&endtime=…&limit=100`: one client, back to back for ' +
    `${DURATION} s after ${WARMUP} s of warm-up, each request a random tag and a random 1-day window (144 physical samples, about 290 stored copies) inside its history, timed one by one. ` +
    'The generator is described at the top of `bench/samples.ts`.',
  '',
  latencyTable(results),
  '',
  ...facts.map(f => `- ${f}`),
  `- Targets: p50 ≤ 20 ms — **${bigTypical.p50.toFixed(2)} ms** (typical tag) and **${bigHeavy.p50.toFixed(2)} ms** (heavy tag) on 10 M; ` +
    `10 M / 100 k p50 ratio ≤ 1.5 — **${ratio(bigTypical, smallTypical)}** (typical tag), **${ratio(bigHeavy, smallTypical)}** (heavy tag against the small database's typical tag). ` +
    'The original system took about 5 s for one window of a tag with 2 000 captures.',
  failures.length > 0 ? `- **Failed requests (not 200, or not a full page)** in: ${failures.map(f => f.name).join(', ')}.` : '',
  '',
  'The window query on the heavy tag (`EXPLAIN ANALYZE`): a range scan of the partial index `capture_sample_tag_window`, whatever the tag\'s history.',
  '',
  '```',
  plan,
  '```',
  '',
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()} with \`npm run bench:samples\`. Server: one Node process, pool of 10, logging at \`warn\`; the client (Node\'s fetch) in another process on the same 2 cores.`
].join('\n')
console.log(md)
await record('samples', md)
