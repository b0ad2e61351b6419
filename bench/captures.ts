// npm run bench:captures — POST /captures with a fresh valid capture per request, and
// GET /captures/{id}/samples, on real PostgreSQL (autocannon, 16 connections, 10 s each).
// BENCH_DATABASE_URL names the server to use (default postgres://postgres@127.0.0.1:5432/postgres);
// a database of our own is created there and dropped afterwards (BENCH_KEEP=1 keeps it).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { parseTagUrl, rhToRaw, TagEncoder, tempToRaw } from '../codec/index.js'
import { load, record, stamp, startBenchServer, table, type LoadResult } from './lib.js'

const adminUrl = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
const dbName = `wsb_bench_${Date.now()}`
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = 16

interface Body { serial: string, statusb64: string, timeintb64: string, circbufb64: string, vfmtb64: string }

function body (serial: string, url: string): Body {
  const q = parseTagUrl(url)
  return { serial, statusb64: q.statb64, timeintb64: q.timeintb64, circbufb64: q.circb64, vfmtb64: q.vfmtb64 }
}

function reading (i: number): [number, number] {
  return [tempToRaw(20 + 4 * Math.sin(i / 20)), rhToRaw(50 + 10 * Math.cos(i / 30))]
}

/** 100-sample captures: each tag restarts its stream per capture (resets-all-time differs, so does the hash). */
function hundredSampleCaptures (tags: Array<{ serial: string, secretkey: string }>, perTag: number): Body[] {
  const bodies: Body[] = []
  for (let r = 0; r < perTag; r++) {
    for (const tag of tags) {
      const encoder = new TagEncoder({ serial: tag.serial, secretKey: tag.secretkey, baseUrl: 'cupl.example', format: 1, intervalMins: 10, useHmac: true, batteryAdc: 128, resetsAllTime: r })
      for (let i = 0; i < 100; i++) encoder.pushSample(...reading(i + r))
      encoder.setElapsedMinutes(r % 10)
      bodies.push(body(tag.serial, encoder.url()))
    }
  }
  return bodies
}

/** Full buffers as a tag scanned again and again produces them: each scan one sample newer, overlapping the last. */
function fullBufferCaptures (tags: Array<{ serial: string, secretkey: string }>, perTag: number): Body[] {
  const perTagBodies = tags.map(tag => {
    const encoder = new TagEncoder({ serial: tag.serial, secretKey: tag.secretkey, baseUrl: 'cupl.example', format: 1, intervalMins: 10, useHmac: true, batteryAdc: 128, resetsAllTime: 1000 })
    for (let i = 0; i < 188; i++) encoder.pushSample(...reading(i))
    const list: Body[] = []
    for (let k = 0; k < perTag; k++) {
      encoder.pushSample(...reading(188 + k))
      list.push(body(tag.serial, encoder.url()))
    }
    return list
  })
  // interleave tags so concurrent requests rarely wait for one tag's lock
  const bodies: Body[] = []
  for (let k = 0; k < perTag; k++) for (const list of perTagBodies) bodies.push(list[k]!)
  return bodies
}

async function postAll (name: string, url: string, bodies: Body[]): Promise<LoadResult> {
  let next = 0
  const payloads = bodies.map(b => JSON.stringify(b))
  return await load(name, {
    url: `${url}/api/consumer/v1/captures`,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: request => {
        if (next >= payloads.length) throw new Error('ran out of prepared captures')
        return { ...request, body: payloads[next++]! }
      }
    }]
  })
}

const admin = new pg.Client({ connectionString: adminUrl.toString() })
await admin.connect()
await admin.query(`CREATE DATABASE ${dbName}`)
const benchUrl = new URL(adminUrl)
benchUrl.pathname = `/${dbName}`
const server = await startBenchServer({ DATABASE_URL: benchUrl.toString() })
try {
  const headers = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }
  const tags: Array<{ id: number, serial: string, secretkey: string }> = []
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`${server.ours}/api/admin/v1/tags`, { method: 'POST', headers, body: JSON.stringify({ secretkey: randomBytes(12).toString('base64url') }) })
    tags.push(await res.json() as { id: number, serial: string, secretkey: string })
  }
  console.log('preparing captures…')
  const hundred = hundredSampleCaptures(tags.slice(0, 200), 100)
  const full = fullBufferCaptures(tags.slice(200), 60)

  const results: LoadResult[] = []
  results.push(await postAll('POST /captures, 100 samples', server.ours, hundred))
  results.push(await postAll('POST /captures, full buffer (188 samples, overlapping the previous scan)', server.ours, full))

  const client = new pg.Client({ connectionString: benchUrl.toString() })
  await client.connect()
  // the tables grew from nothing within seconds; autovacuum would analyze them within a minute
  await client.query('VACUUM ANALYZE')
  const ids = (await client.query<{ id: number }>('SELECT id FROM capture WHERE nsamples >= 100 ORDER BY random() LIMIT 2000')).rows.map(r => r.id)
  await client.end()
  let i = 0
  results.push(await load('GET /captures/{id}/samples?limit=100', {
    url: server.ours,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ method: 'GET', setupRequest: request => ({ ...request, path: `/api/consumer/v1/captures/${ids[i++ % ids.length]!}/samples?limit=100` }) }]
  }))

  const failures = results.filter(r => r.non2xx + r.errors > 0)
  const post = results[0]!
  const md = [
    '### Captures (`npm run bench:captures`)',
    '',
    table(results),
    '',
    `Targets: POST ≥ 600 req/s with p99 ≤ 50 ms (the original Flask system: ~120 req/s, p99 ~200 ms) — 100-sample POST: **${post.requestsPerSec} req/s, p99 ${post.p99} ms**; samples read ≥ 940 req/s (20 × ~47) — **${results[2]!.requestsPerSec} req/s**.`,
    'Every POST carries a capture not stored before (prepared in advance with the encoder); 100-sample captures come from 200 tags, full buffers from 200 other tags scanned repeatedly, so each full buffer overlaps the previous one and exercises the de-duplication. The read runs after a `VACUUM ANALYZE` of what the writes stored (as autovacuum would do within a minute), on captures of at least 100 samples. Server: one Node process, pool of 10, logging at `warn`; autocannon runs in another process on the same 2 cores.',
    failures.length > 0 ? `\n**Non-2xx responses or errors occurred** in: ${failures.map(f => f.name).join(', ')}.` : '',
    '',
    stamp('npm run bench:captures')
  ].join('\n')
  console.log(md)
  await record('captures', md)
} finally {
  server.stop()
  await new Promise(resolve => setTimeout(resolve, 1500))
  if (process.env.BENCH_KEEP !== '1') await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.end()
}
