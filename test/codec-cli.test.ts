import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { CRASH_DECISIONS, loadVectors, REFERENCE_ERRORS } from './codec/vectors.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const { vectors } = loadVectors()

function cli(args: string[], input = '') {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'codec/cli.ts', ...args], { cwd: root, input, encoding: 'utf8' })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

function jsonLines(stdout: string): unknown[] {
  const lines = stdout.split('\n')
  if (lines.pop() !== '') throw new Error('stdout does not end with a newline')
  return lines.map((line) => JSON.parse(line))
}

t.test('decode: one JSON line out per line in, in order, bad lines included', async (t) => {
  const lines = vectors.map((v) => JSON.stringify(v.decode_input))
  const junk = ['not json', '', '[1, 2]', '{"statb64": 5}', JSON.stringify({ ...vectors[0]!.decode_input, scantimestamp: '2022-02-30T00:00:00Z' })]
  const run = cli(['decode'], [...lines.slice(0, 10), ...junk, ...lines.slice(10)].join('\n') + '\n')
  t.equal(run.status, 0)
  t.equal(run.stderr, '')
  const out = jsonLines(run.stdout) as { ok: boolean; result?: unknown; error?: { kind: string; message: string } }[]
  t.equal(out.length, lines.length + junk.length, 'one line per input line')

  const junkOut = out.splice(10, junk.length)
  t.strictSame(
    junkOut.map((o) => [o.ok, o.error?.kind]),
    junk.map(() => [false, 'MalformedInput']),
    'every bad line answered with MalformedInput',
  )
  t.match(junkOut[0]!.error!.message, /not valid JSON/)
  t.match(junkOut[2]!.error!.message, /not a JSON object/)
  t.match(junkOut[3]!.error!.message, /^v: /, 'names the first bad field')
  t.match(junkOut[4]!.error!.message, /^scantime: /)

  vectors.forEach((vector, i) => {
    const got = out[i]!
    const expected = vector.expected
    if (expected.ok) {
      t.strictSame(got, { ok: true, result: expected.result }, vector.id)
    } else {
      const kind = REFERENCE_ERRORS[expected.error.class] ?? CRASH_DECISIONS[vector.id]?.kind
      t.ok(kind, `${vector.id}: a kind is expected`)
      t.strictSame(Object.keys(got.error!).sort(), ['kind', 'message'], `${vector.id}: {kind, message}`)
      t.match(got, { ok: false, error: { kind } }, `${vector.id}: ${kind}`)
    }
  })
})

t.test('decode: scantimestamp defaults to now, usehmac to true', async (t) => {
  const vector = vectors.find((v) => v.id === 'f1-hmac-n1')!
  const { scantimestamp: _, usehmac: __, ...rest } = vector.decode_input
  const before = Date.now()
  const [got] = jsonLines(cli(['decode'], JSON.stringify(rest)).stdout) as { result: { newest_timestamp: string; hashtype: string } }[]
  t.equal(got!.result.hashtype, 'HMAC_MD5')
  const newest = Date.parse(got!.result.newest_timestamp)
  t.ok(newest >= before - 1000 && newest <= Date.now(), 'newest sample dated now')
})

t.test('npm run -s codec -- decode prints nothing but JSON lines', async (t) => {
  const input = vectors.slice(0, 3).map((v) => JSON.stringify(v.decode_input)).join('\n') + '\n'
  const run = spawnSync('npm', ['run', '-s', 'codec', '--', 'decode'], { cwd: root, input, encoding: 'utf8' })
  t.equal(run.status, 0)
  t.equal(jsonLines(run.stdout).length, 3)
})

t.test('encode: a vector encoder object per line gives its URL', async (t) => {
  const encoders = vectors.filter((v) => v.source === 'encoder')
  const lines = encoders.map((v) => JSON.stringify(v.encoder))
  const run = cli(['encode'], [...lines, '{"format": 1}', 'nope'].join('\n'))
  t.equal(run.status, 0)
  const out = jsonLines(run.stdout)
  t.equal(out.length, lines.length + 2)
  encoders.forEach((vector, i) => t.strictSame(out[i], { url: vector.url }, vector.id))
  t.match(out[lines.length], { error: { kind: 'MalformedInput', message: /serial/ } })
  t.match(out[lines.length + 1], { error: { kind: 'MalformedInput', message: /not valid JSON/ } })
})

t.test('decode-url prints status, battery and a table of samples', async (t) => {
  const vector = vectors.find((v) => v.id === 'f1-md5-n6')!
  const run = cli(['decode-url', vector.url!, '--md5', '--scan-time', '2022-06-08T04:07:58Z'])
  t.equal(run.status, 0)
  t.equal(run.stderr, '')
  t.match(run.stdout, /^Tag +abcdabcd$/m)
  t.match(run.stdout, /^Status +loop count 0, resets all time 0, reset cause none/m)
  t.match(run.stdout, /^Battery +3840 mV \(ADC code 100\)$/m)
  t.match(run.stdout, /^Hash +490084e43709c1 \(MD5/m)
  const rows = run.stdout.split('\n').filter((line) => /^\d+ +\d{4}-/.test(line))
  t.equal(rows.length, 6, 'one row per sample')
  t.match(rows[0], /^0 +2022-06-08T04:07:58Z +-28\.52 +11\.35 +285 +465$/)
  t.match(rows[5], /^5 +2022-06-07T23:07:58Z +-35\.97 +4\.88 +100 +200$/)
})

t.test('decode-url reports errors on stderr with a non-zero exit', async (t) => {
  const hmac = vectors.find((v) => v.id === 'f1-hmac-n1')!
  const wrongKey = cli(['decode-url', hmac.url!, '--secret', 'ZZZZBBBBCCCCDDDD'])
  t.equal(wrongKey.status, 1)
  t.match(wrongKey.stderr, /^error: MessageIntegrity: /)

  const tagError = vectors.find((v) => v.id === 'f2-tagerror')!
  const noBuffer = cli(['decode-url', tagError.url!, '--secret', 'AAAABBBBCCCCDDDD'])
  t.equal(noBuffer.status, 1)
  t.match(noBuffer.stdout, /reset cause supervisor/, 'the status is still shown')
  t.match(noBuffer.stderr, /NoCircularBuffer/)

  t.equal(cli(['decode-url', hmac.url!]).status, 2, 'no key: usage')
  t.equal(cli(['decode-url', hmac.url!, '--secret', 'k', '--scan-time', 'yesterday']).status, 2)
  t.equal(cli(['frobnicate']).status, 2)
})
