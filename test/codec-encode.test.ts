import t from 'tap'
import {
  blockPadding,
  decode,
  MalformedInputError,
  parseTagUrl,
  TagEncoder,
  type TagEncoderConfig,
} from '../codec/index.js'
import { encoderConfigOf, loadVectors } from './codec/vectors.js'

const { vectors } = loadVectors()
const encoderVectors = vectors.filter((v) => v.source === 'encoder')

const base: TagEncoderConfig = {
  serial: 'abcdabcd',
  secretKey: 'AAAABBBBCCCCDDDD',
  baseUrl: 'plotsensor.com',
  format: 1,
  intervalMins: 10,
  useHmac: true,
  batteryAdc: 100,
}

function urlAfter(config: TagEncoderConfig, samples: number, reading = (i: number) => [i % 4096, (3 * i) % 4096] as const): string {
  const tag = new TagEncoder(config)
  for (let i = 0; i < samples; i++) {
    const [rd0, rd1] = reading(i)
    tag.pushSample(rd0, rd1)
  }
  return tag.url()
}

t.test('every encoder vector: the URL byte for byte', async (t) => {
  t.ok(encoderVectors.length > 20, `${encoderVectors.length} encoder vectors`)
  for (const vector of encoderVectors) {
    const encoder = vector.encoder!
    const tag = new TagEncoder(encoderConfigOf(encoder))
    for (const [rd0, rd1] of encoder.samples_pushed) tag.pushSample(rd0, rd1 ?? undefined)
    if (encoder.elapsed_minutes !== null) tag.setElapsedMinutes(encoder.elapsed_minutes)
    t.equal(tag.url(), vector.url, vector.id)
  }
})

t.test('every encoder vector: the NDEF TLV and record header', async (t) => {
  for (const vector of encoderVectors) {
    const ndef = (vector as unknown as { ndef: { tlv: string; record_header: string; uri_identifier_code: number } }).ndef
    const header = new TagEncoder(encoderConfigOf(vector.encoder!)).ndefHeader()
    t.equal(Buffer.from(header).toString('hex'), ndef.tlv + ndef.record_header + ndef.uri_identifier_code.toString(16).padStart(2, '0'), vector.id)
  }
})

t.test('parseTagUrl gives back each vector query, the empty q of a tag error included', async (t) => {
  for (const vector of encoderVectors) {
    const query = parseTagUrl(vector.url!)
    const expected = vector.query!
    t.strictSame(
      query,
      { serial: expected.s, statb64: expected.x, timeintb64: expected.t, circb64: expected.q ?? '', vfmtb64: expected.v },
      vector.id,
    )
    t.equal(query.circb64, vector.decode_input.circb64, `${vector.id}: q is the decoder's circb64`)
  }
})

t.test('parseTagUrl names the missing parameter', async (t) => {
  t.throws(() => parseTagUrl('https://plotsensor.com/?t=CgA.&s=abcdabcd&x=AAAAAABk&q='), { name: 'MalformedInputError', param: 'v' })
  t.throws(() => parseTagUrl('https://plotsensor.com/'), { name: 'MalformedInputError', param: 't' })
  t.throws(() => parseTagUrl('https://p.com/?t=CgA.&v=AAIB&x=AAAAAABk&q=%E0%A4%A'), { name: 'MalformedInputError', param: 'q' })
  t.type(t.throws(() => parseTagUrl('https://p.com/?t=CgA.&v=AAIB&q=')), MalformedInputError)
  t.equal(parseTagUrl('https://p.com/?t=CgA.&v=AAIB&x=AAAAAABk&q=').serial, null, 'no s: serial null')
  t.equal(parseTagUrl('https://p.com/?t=CgA.&v=AAIB&x=AAAAAABk&q=ab%7Ecd#frag').circb64, 'ab~cd', 'percent-decoded, fragment dropped')
})

t.test('a full buffer has a constant length: 816 + base URL + padding, one less for http', async (t) => {
  for (let length = 0; length <= 60; length++) {
    const baseUrl = 'a'.repeat(length)
    const padding = blockPadding(baseUrl)
    t.equal((52 + length + padding) % 16, 0, `padding ${padding} completes the preamble's last block`)
    const url = urlAfter({ ...base, baseUrl }, 200)
    t.equal(url.length, 816 + length + padding, `base URL of ${length}`)
    t.equal(parseTagUrl(url).vfmtb64, '0'.repeat(padding) + 'AAIB')
    t.equal(urlAfter({ ...base, baseUrl, httpsDisable: true }, 3).length, 815 + length + padding)
  }
  t.equal(urlAfter(base, 5).length, 844, 'plotsensor.com: 844 characters')
})

t.test('q is the blank filler until the first sample', async (t) => {
  const q = parseTagUrl(urlAfter(base, 0)).circb64
  t.equal(q, 'MDAw'.repeat(192))
})

t.test('the end marker sits at 8c + 23 for cursor demi c, wrapping at 768', async (t) => {
  for (const samples of [1, 2, 3, 4, 187, 188, 189, 190, 191, 192, 193, 194, 400]) {
    const q = parseTagUrl(urlAfter(base, samples)).circb64
    const cursorDemi = Math.floor((samples - 1) / 2) % 96
    t.equal(q.indexOf('~'), (8 * cursorDemi + 23) % 768, `${samples} samples`)
    t.equal(q.split('~').length, 2, 'exactly one ~')
    t.equal(q.length, 768)
  }
})

t.test('the loop count rises and the reset cause clears every 192 (format 1) or 384 (format 2) samples', async (t) => {
  const status = (format: number, samples: number) => {
    const config = { ...base, format, resetCause: 0x07 }
    const { statb64 } = parseTagUrl(urlAfter(config, samples))
    return Buffer.from(statb64, 'base64url')
  }
  t.strictSame([...status(1, 192)], [0, 0, 0, 0, 0x07, 100], 'format 1, 192 samples: loop 0, reset cause kept')
  t.strictSame([...status(1, 193)], [1, 0, 0, 0, 0x00, 100], 'format 1, 193 samples: loop 1, reset cause cleared')
  t.strictSame([...status(1, 385)], [2, 0, 0, 0, 0x00, 100], 'format 1, 385 samples: loop 2')
  t.strictSame([...status(2, 384)], [0, 0, 0, 0, 0x07, 100], 'format 2, 384 samples: loop 0')
  t.strictSame([...status(2, 385)], [1, 0, 0, 0, 0x00, 100], 'format 2, 385 samples: loop 1')
})

t.test('readings keep their low 12 bits', async (t) => {
  const masked = urlAfter(base, 3, (i) => [[4096, -1, 4096 + 4095][i]!, [8191, 0x1234, -4096][i]!])
  const plain = urlAfter(base, 3, (i) => [[0, 4095, 4095][i]!, [4095, 0x234, 0][i]!])
  t.equal(masked, plain)
})

t.test('format 2 ignores rd1; formats with pairs need it', async (t) => {
  const f2 = { ...base, format: 2 }
  t.equal(urlAfter(f2, 5, (i) => [i, 7]), urlAfter(f2, 5, (i) => [i, 99]))
  t.throws(() => new TagEncoder(base).pushSample(1), TypeError)
  t.throws(() => new TagEncoder(base).pushSample(1.5, 2), RangeError)
})

t.test('the firmware keys HMAC with the first 16 bytes of the secret', async (t) => {
  t.equal(urlAfter({ ...base, secretKey: 'AAAABBBBCCCCDDDD and more' }, 9), urlAfter(base, 9))
  t.not(urlAfter({ ...base, secretKey: 'AAAABBBBCCCCDDDE' }, 9), urlAfter(base, 9))
})

t.test('a tag error leaves q empty whatever is pushed', async (t) => {
  const tag = new TagEncoder({ ...base, tagError: true, resetCause: 2 })
  const before = tag.url()
  t.ok(before.endsWith('&q='))
  tag.pushSample(1, 2)
  tag.setElapsedMinutes(5)
  t.equal(tag.url(), before)
  t.equal(before.length, 76)
})

t.test('setElapsedMinutes rewrites only the elapsed field of the endstop', async (t) => {
  const tag = new TagEncoder(base)
  tag.pushSample(100, 200)
  const before = tag.url()
  tag.setElapsedMinutes(0x1234)
  const after = tag.url()
  const at = before.indexOf('~')
  t.equal(after.slice(0, at - 3), before.slice(0, at - 3))
  t.equal(after.slice(at - 3, at + 1), Buffer.from([0x34, 0x12]).toString('base64url') + '~')
  t.equal(after.slice(at + 1), before.slice(at + 1))
  t.throws(() => tag.setElapsedMinutes(65536), RangeError)
  tag.pushSample(1, 2)
  t.match(tag.url(), /AAA~/, 'a push resets elapsed to 0')
})

t.test('setElapsedMinutes before the first push corrupts the URL as the firmware does', async (t) => {
  const tag = new TagEncoder(base)
  tag.setElapsedMinutes(5)
  const url = tag.url()
  const q = url.slice(url.indexOf('&q=') + 3)
  t.equal(q.length, 768)
  // Block 1 of q: the never-written endstop (NULs), elapsed 5, then RAM left over from the preamble.
  t.equal(q.slice(16, 32), '\0\0\0\0BQA~dabcd&v=')
  t.equal(url.split('&v=').length, 3, 'a second &v=')
  t.throws(() => decode({ ...parseTagUrl(url), secretKey: base.secretKey, useHmac: true, scanTime: new Date() }), {
    name: 'MalformedInputError',
    kind: 'MalformedInput',
  })
})

t.test('configurations the firmware cannot hold are refused', async (t) => {
  t.throws(() => new TagEncoder({ ...base, serial: 'short' }), RangeError)
  t.throws(() => new TagEncoder({ ...base, serial: 'abc&abcd' }), RangeError)
  t.throws(() => new TagEncoder({ ...base, baseUrl: 'bad url' }), RangeError)
  t.throws(() => new TagEncoder({ ...base, format: 256 }), RangeError)
  t.throws(() => new TagEncoder({ ...base, intervalMins: 65536 }), RangeError)
  t.throws(() => new TagEncoder({ ...base, batteryAdc: -1 }), RangeError)
  t.throws(() => new TagEncoder({ ...base, resetCause: 0.5 }), RangeError)
  t.throws(() => new TagEncoder({ ...base, useHmac: 'yes' as unknown as boolean }), TypeError)
})
