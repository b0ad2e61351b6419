import { decode, parseTagUrl, TagEncoder, type DecodeInput } from '../codec/index.js'

// Decodes per second of a full buffer of each format, HMAC-MD5: `npm run bench:codec`.

const SECRET = 'AAAABBBBCCCCDDDD'
const WARMUP_MS = 1000
const RUN_MS = 1500
const RUNS = 3

function fullBuffer(format: 1 | 2, samples: number): DecodeInput {
  const tag = new TagEncoder({
    serial: 'abcdabcd',
    secretKey: SECRET,
    baseUrl: 'plotsensor.com',
    format,
    intervalMins: 10,
    useHmac: true,
    batteryAdc: 100,
  })
  for (let i = 0; i < samples; i++) tag.pushSample((i * 37) % 4095, (i * 53) % 4096)
  tag.setElapsedMinutes(7)
  return { ...parseTagUrl(tag.url()), secretKey: SECRET, useHmac: true, scanTime: new Date('2024-05-01T12:00:00Z') }
}

/** Calls `fn` in batches until `ms` have passed; returns calls per second. */
function rate(fn: () => void, ms: number): number {
  let calls = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 256; i++) fn()
    calls += 256
    now = process.hrtime.bigint()
  }
  return calls / (Number(now - start) / 1e9)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const cases = [
  { name: 'format 1, 188 samples', input: fullBuffer(1, 188), touch: false },
  { name: 'format 2, 376 samples', input: fullBuffer(2, 376), touch: false },
  { name: 'format 1, then every sample read', input: fullBuffer(1, 188), touch: true },
  { name: 'format 2, then every sample read', input: fullBuffer(2, 376), touch: true },
]

let sink = 0
const rows: string[][] = [['case', 'samples', 'decodes/s', 'µs/decode']]
for (const { name, input, touch } of cases) {
  const samples = decode(input).samples.length
  const run = touch
    ? () => {
        for (const sample of decode(input).samples) sink += sample.timestamp.getTime() + sample.temp + (sample.rh ?? 0)
      }
    : () => {
        sink += decode(input).samples.length
      }
  rate(run, WARMUP_MS)
  const perSecond = median(Array.from({ length: RUNS }, () => rate(run, RUN_MS)))
  rows.push([name, String(samples), Math.round(perSecond).toLocaleString('en-US'), (1e6 / perSecond).toFixed(1)])
}

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)))
for (const row of rows) {
  console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
}
console.log(`node ${process.version}, HMAC-MD5, median of ${RUNS} runs of ${RUN_MS} ms after ${WARMUP_MS} ms warm-up`)
console.log('"then every sample read": timestamp as a Date, temperature and humidity of every sample')
if (sink === 0.5) console.log('')
