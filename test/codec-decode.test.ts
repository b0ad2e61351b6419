import { createHash } from 'node:crypto'
import t from 'tap'
import {
  captureToJson,
  CODEC_MAJOR_VERSION,
  CODEC_VERSION,
  CodecError,
  decode,
  DelimiterNotFoundError,
  InvalidFormatError,
  InvalidMajorVersionError,
  MalformedInputError,
  MessageIntegrityError,
  NoCircularBufferError,
  parseTagUrl,
  TagEncoder,
  type DecodeInput,
  type TagEncoderConfig,
} from '../codec/index.js'

const SECRET = 'AAAABBBBCCCCDDDD'
const SCAN = new Date('2024-05-01T12:00:30Z')
const base: TagEncoderConfig = {
  serial: 'abcdabcd',
  secretKey: SECRET,
  baseUrl: 'plotsensor.com',
  format: 1,
  intervalMins: 10,
  useHmac: true,
  batteryAdc: 100,
}

function inputFor(config: Partial<TagEncoderConfig> = {}, samples = 5, elapsed?: number): DecodeInput {
  const tag = new TagEncoder({ ...base, ...config })
  for (let i = 0; i < samples; i++) tag.pushSample(100 + i, 200 + i)
  if (elapsed !== undefined) tag.setElapsedMinutes(elapsed)
  return { ...parseTagUrl(tag.url()), secretKey: config.secretKey ?? SECRET, useHmac: config.useHmac ?? true, scanTime: SCAN }
}

function errorOf(input: DecodeInput): CodecError {
  try {
    decode(input)
  } catch (error) {
    if (error instanceof CodecError) return error
    throw error
  }
  throw new Error('decoded without error')
}

/** Replaces the character at `index` of q, counted from the `~` when negative. */
function withQ(input: DecodeInput, index: number, replacement: string): DecodeInput {
  const q = input.circb64
  const at = index < 0 ? q.indexOf('~') + index : index
  return { ...input, circb64: q.slice(0, at) + replacement + q.slice(at + replacement.length) }
}

t.test('one error class per kind, all CodecErrors', async (t) => {
  const cases: [CodecError, string, string][] = [
    [new InvalidMajorVersionError(3, 2), 'InvalidMajorVersion', 'InvalidMajorVersionError'],
    [new InvalidFormatError(7), 'InvalidFormat', 'InvalidFormatError'],
    [new MessageIntegrityError('00', '11'), 'MessageIntegrity', 'MessageIntegrityError'],
    [errorOf(inputFor({ tagError: true })), 'NoCircularBuffer', 'NoCircularBufferError'],
    [errorOf(inputFor({}, 0)), 'DelimiterNotFound', 'DelimiterNotFoundError'],
    [new MalformedInputError('x', 'why'), 'MalformedInput', 'MalformedInputError'],
  ]
  for (const [error, kind, name] of cases) {
    t.type(error, CodecError)
    t.type(error, Error)
    t.equal(error.kind, kind)
    t.equal(error.name, name)
  }
  t.equal(CODEC_MAJOR_VERSION, 2)
  t.match(CODEC_VERSION, /^2\.\d+\.\d+$/)
})

t.test('a capture in camelCase with timestamps from the scan time', async (t) => {
  const capture = decode(inputFor({}, 5, 3))
  t.equal(capture.formatCode, 1)
  t.equal(capture.encoderMajorVersion, 2)
  t.equal(capture.nPairs, 5)
  t.equal(capture.elapsedMins, 3)
  t.equal(capture.intervalMins, 10)
  t.match(capture.hash, /^[0-9a-f]{14}$/)
  t.equal(capture.hashType, 'HMAC_MD5')
  t.equal(capture.newestTimestamp.toISOString(), '2024-05-01T11:57:30.000Z', 'scan − elapsed, seconds kept')
  t.strictSame(
    capture.samples.map((s) => [s.timestamp.toISOString(), s.rawTemp, s.rawRh]),
    [
      ['2024-05-01T11:57:30.000Z', 104, 204],
      ['2024-05-01T11:47:30.000Z', 103, 203],
      ['2024-05-01T11:37:30.000Z', 102, 202],
      ['2024-05-01T11:27:30.000Z', 101, 201],
      ['2024-05-01T11:17:30.000Z', 100, 200],
    ],
  )
  t.strictSame([...capture.pairs], [104, 204, 103, 203, 102, 202, 101, 201, 100, 200])
  t.equal(capture.samples[0]!.temp, (104 * 165) / 4096 - 40)
  t.equal(capture.samples[0]!.rh, (204 * 100) / 4096)
})

t.test('samples are views: a fresh Date per read, everything in JSON, raw readings in a spread', async (t) => {
  const [sample] = decode(inputFor({}, 1)).samples
  t.not(sample!.timestamp, sample!.timestamp, 'a new Date each time, so mutating one changes nothing')
  sample!.timestamp.setTime(0)
  t.equal(sample!.timestampMs, SCAN.getTime())
  t.strictSame(JSON.parse(JSON.stringify(sample)), {
    timestamp: SCAN.toISOString(),
    temp: (100 * 165) / 4096 - 40,
    rh: (200 * 100) / 4096,
    rawTemp: 100,
    rawRh: 200,
    pairIndex: 0,
    slot: 0,
  })
  t.strictSame({ ...sample }, { rawTemp: 100, rawRh: 200, pairIndex: 0, slot: 0 })
})

t.test('captureToJson uses the reference field names and ISO seconds', async (t) => {
  const json = captureToJson(decode(inputFor({ format: 2, resetCause: 0x42 }, 3)))
  t.equal(json.decoder_class, 'Temp_URL')
  t.equal(json.newest_timestamp, '2024-05-01T12:00:30Z')
  t.strictSame(json.samples[0], { timestamp: '2024-05-01T12:00:30Z', temp: (102 * 165) / 4096 - 40, rh: null, rawtemp: 102, rawrh: null })
  t.equal(json.nsamples, 3)
  t.equal(json.status.resetcauseraw, 0x42, 'bit 6 is carried')
  t.strictSame(json.status.resetcause, {
    brownout: false,
    supervisor: true,
    watchdog: false,
    misc: false,
    lpm5wakeup: false,
    clockfail: false,
    scantimeout: false,
  })
})

t.test('status is little-endian; battery code 0 gives no voltage', async (t) => {
  const input = { ...inputFor({ batteryAdc: 0, resetsAllTime: 0x0102, tagError: true }) }
  t.equal(input.statb64, Buffer.from([0, 0, 0x02, 0x01, 0, 0]).toString('base64url'))
  const error = errorOf(input)
  t.type(error, NoCircularBufferError)
  const { status } = error as NoCircularBufferError
  t.equal(status.resetsAllTime, 0x0102)
  t.equal(status.batteryRaw, 0)
  t.equal(status.batteryMv, null)
  t.equal(decode(inputFor({ batteryAdc: 66 })).status.batteryMv, 5818.181818181818)
})

t.test('v: only the last 4 characters count', async (t) => {
  const input = inputFor()
  t.equal(decode({ ...input, vfmtb64: 'AAIB' }).hash, decode(input).hash, 'padding is optional')
  t.equal(decode({ ...input, vfmtb64: 'xyz!AAIB' }).formatCode, 1, 'the prefix is ignored, as by the reference')
  t.match(errorOf({ ...input, vfmtb64: 'AIB' }), { kind: 'MalformedInput', param: 'v' })
  t.match(errorOf({ ...input, vfmtb64: '000AA..' }), { kind: 'MalformedInput', param: 'v' })
  t.match(errorOf({ ...input, vfmtb64: 'AAMB' }), { kind: 'InvalidMajorVersion', encoderVersion: 3 })
  t.match(errorOf({ ...input, vfmtb64: 'AAIA' }), { kind: 'InvalidFormat', formatCode: 0 })
})

t.test('checks run in the reference order: version, status, buffer, hash, interval', async (t) => {
  const input = inputFor()
  const broken = { ...input, statb64: '!', circb64: '', timeintb64: '!' }
  t.match(errorOf({ ...broken, vfmtb64: 'AAMB' }), { kind: 'InvalidMajorVersion' })
  t.match(errorOf(broken), { kind: 'MalformedInput', param: 'x' })
  t.match(errorOf({ ...broken, statb64: input.statb64 }), { kind: 'NoCircularBuffer' })
  t.match(errorOf({ ...input, secretKey: 'wrong', timeintb64: '!' }), { kind: 'MessageIntegrity' })
  t.match(errorOf({ ...input, timeintb64: '!' }), { kind: 'MalformedInput', param: 't' })
})

t.test('base64url is strict: no +, /, = or stray padding; unused low bits are ignored', async (t) => {
  const input = inputFor()
  for (const statb64 of ['AAAAAA+k', 'AAAAAA/k', 'AAAAAA=k', 'AAAAAA.k', 'AAAAAABk.', ' AAAAAABk']) {
    t.match(errorOf({ ...input, statb64 }), { kind: 'MalformedInput', param: 'x' }, statb64)
  }
  for (const timeintb64 of ['CgA=', 'CgA', 'CgA..', 'Cg..', 'CgAA', 'CgA.CgA.']) {
    t.match(errorOf({ ...input, timeintb64 }), { kind: 'MalformedInput', param: 't' }, timeintb64)
  }
  t.equal(decode({ ...input, timeintb64: 'CgB.' }).intervalMins, 10, 'spare bits of t ignored')
  const elapsedLast = input.circb64.indexOf('~') - 1
  t.equal(decode(withQ(input, elapsedLast, 'D')).elapsedMins, 0, 'spare bits of the elapsed field ignored')
  t.match(errorOf(withQ(input, -5, '+')), { kind: 'MalformedInput', param: 'q' }, '+ in the endstop')
  t.match(errorOf(withQ(input, -2, '.')), { kind: 'MalformedInput', param: 'q' }, '. in the elapsed field')
})

t.test('the unused half of a partial demi is not hashed but must be base64', async (t) => {
  const input = inputFor({}, 5)
  // The cursor demi ends 16 characters before the `~`; its second half is the placeholder.
  const placeholder = input.circb64.indexOf('~') - 16 - 3
  t.equal(input.circb64.slice(placeholder, placeholder + 4), 'AAAA')
  t.equal(decode(withQ(input, placeholder, 'BBBB')).hash, decode(input).hash)
  t.match(errorOf(withQ(input, placeholder, 'AA!A')), { kind: 'MalformedInput', param: 'q' })
})

t.test('stale data before the valid pairs is neither hashed nor read', async (t) => {
  const input = inputFor({}, 5)
  t.equal(decode(withQ(input, input.circb64.length - 4, '!!!!')).nPairs, 5)
})

t.test('q: its length is not checked, its delimiter and alignment are', async (t) => {
  const input = inputFor({}, 5)
  const tilde = input.circb64.indexOf('~')
  const cut = { ...input, circb64: input.circb64.slice(0, tilde + 1) }
  t.strictSame(captureToJson(decode(cut)), captureToJson(decode(input)), 'cut right after ~: the same capture, as with the reference')
  t.match(errorOf({ ...input, circb64: input.circb64.slice(1) }), { kind: 'MalformedInput', param: 'q' }, 'demis misaligned')
  t.match(errorOf({ ...input, circb64: '~' }), { kind: 'MalformedInput', param: 'q' }, 'shorter than the endstop')
  const twice = errorOf(withQ(input, 0, '~'))
  t.match(twice, { kind: 'DelimiterNotFound', delimiterCount: 2 })
  t.type(twice, DelimiterNotFoundError)
  t.match(errorOf({ ...input, circb64: input.circb64.slice(tilde + 1) + input.circb64.slice(0, tilde + 1) }), {
    kind: 'MessageIntegrity',
  }, 'rotated: the end marker position is hashed')
})

t.test('nPairs beyond what the buffer holds is MalformedInput, even with a valid MD5', async (t) => {
  const input = inputFor({ useHmac: false }, 188)
  const q0 = input.circb64
  const tilde = q0.indexOf('~')
  const start = q0.length - tilde - 1
  const linear = q0.slice(tilde + 1) + q0.slice(0, tilde + 1)
  const message = Buffer.concat([Buffer.alloc(189 * 3), Buffer.from([0, 0, 0, 0, 100, 0, tilde >> 8, tilde & 0xff])])
  const hashn = Buffer.concat([createHash('md5').update(message).digest().subarray(0, 7), Buffer.from([0, 189])])
  const forged = linear.slice(0, -16) + hashn.toString('base64url') + linear.slice(-4)
  const q = forged.slice(start) + forged.slice(0, start)
  t.equal(q.indexOf('~'), tilde)
  t.match(errorOf({ ...input, circb64: q }), { kind: 'MalformedInput', param: 'q', reason: /189 pairs/ })
})

t.test('MD5 mode ignores the key (anyone can forge it); HMAC needs the right, non-empty key', async (t) => {
  const md5 = inputFor({ useHmac: false })
  t.equal(decode({ ...md5, secretKey: 'anything' }).hashType, 'MD5')
  t.match(errorOf({ ...inputFor(), secretKey: 'AAAABBBBCCCCDDDE' }), { kind: 'MessageIntegrity' })
  t.match(errorOf({ ...inputFor(), secretKey: '' }), { kind: 'MalformedInput', param: 'secretkey' })
})

t.test('timestamps must stay within years 1 to 9999', async (t) => {
  const input = inputFor({ intervalMins: 1440 }, 188, 65535)
  t.match(errorOf({ ...input, scanTime: new Date('0001-03-01T00:00:00Z') }), { kind: 'MalformedInput', param: 'scantime' })
  t.match(errorOf({ ...input, scanTime: new Date('+010000-01-01T00:00:00Z') }), { kind: 'MalformedInput', param: 'scantime' })
  t.equal(decode({ ...input, scanTime: new Date('0002-01-01T00:00:00Z') }).samples.length, 188)
})
