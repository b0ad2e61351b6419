import { base64Problem, decodeQuad, PAD, sextet, SEXTET } from './base64url.js'
import { rawToRh, rawToTemp } from './conversions.js'
import {
  DelimiterNotFoundError,
  InvalidFormatError,
  InvalidMajorVersionError,
  MalformedInputError,
  MessageIntegrityError,
  NoCircularBufferError,
  type MalformedParam,
} from './errors.js'
import { digest, HASH_BYTES, hashMatches } from './hash.js'
import { decodeStatusWords, tagStatus, type StatusWords } from './status.js'
import type { CaptureSample, DecodedCapture, DecodeInput, FormatCode, HashType } from './types.js'
import { CODEC_MAJOR_VERSION } from './version.js'

const DELIMITER = '~'
const ENDSTOP_CHARS = 16
const DEMI_CHARS = 8
const PAIR_BYTES = 3
const STATUS_TRAILER_BYTES = 8
/** Format 2 leaves this in the second slot of a pair until the second reading arrives. */
const EMPTY_READING = 4095
const MINUTE_MS = 60_000
/** Python's datetime range, which the reference's timestamps must fit: years 1 to 9999. */
const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z')
const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z')

// Scratch space reused across calls (decode is synchronous and never yields).
/** Pairs newest first, then the status trailer: the hashed message. */
let message = Buffer.allocUnsafe(188 * PAIR_BYTES + STATUS_TRAILER_BYTES)
/** `q` twice over as bytes, so that the buffer read from any start is contiguous. */
let doubled = Buffer.allocUnsafe(2 * 768)
const urlHash = Buffer.allocUnsafe(HASH_BYTES)
/** Base64url value of every byte, -1 outside the alphabet. */
const BYTE_SEXTET = Int8Array.from({ length: 256 }, (_, byte) => SEXTET[byte] ?? -1)
/** Stands in for any non-ASCII character; not in the alphabet. */
const NON_ASCII = 0x80

/** When the newest sample was taken and how far apart samples are; shared by a capture's samples. */
interface Clock {
  readonly newestMs: number
  readonly intervalMs: number
}

/**
 * A sample is a view of its raw readings: timestamp, temperature and humidity are computed when
 * read. Building a Date (and boxing three doubles) for each of 188–376 samples would cost more
 * than the rest of a decode. Spreading a sample copies only the raw readings; `toJSON` gives all.
 */
class Sample implements CaptureSample {
  readonly rawTemp: number
  readonly rawRh: number | null
  readonly pairIndex: number
  readonly slot: 0 | 1
  readonly #clock: Clock
  readonly #index: number

  constructor(clock: Clock, index: number, rawTemp: number, rawRh: number | null, pairIndex: number, slot: 0 | 1) {
    this.#clock = clock
    this.#index = index
    this.rawTemp = rawTemp
    this.rawRh = rawRh
    this.pairIndex = pairIndex
    this.slot = slot
  }

  get timestampMs(): number {
    return this.#clock.newestMs - this.#index * this.#clock.intervalMs
  }

  get timestamp(): Date {
    return new Date(this.timestampMs)
  }

  get temp(): number {
    return rawToTemp(this.rawTemp)
  }

  get rh(): number | null {
    return this.rawRh === null ? null : rawToRh(this.rawRh)
  }

  toJSON(): Omit<CaptureSample, 'timestampMs'> {
    const { timestamp, temp, rh, rawTemp, rawRh, pairIndex, slot } = this
    return { timestamp, temp, rh, rawTemp, rawRh, pairIndex, slot }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): object {
    return this.toJSON()
  }
}

/**
 * Verifies and decodes the query values of a tag URL. Checks run in the reference decoder's order,
 * so an input with several faults fails with the same kind of error as there.
 * @throws {CodecError} and nothing else
 */
export function decode(input: DecodeInput): DecodedCapture {
  checkArguments(input)
  const { circb64: q } = input

  const formatCode = decodeVersion(input.vfmtb64)
  const words = decodeStatusWords(input.statb64)

  if (q.length === 0) throw new NoCircularBufferError(tagStatus(words))
  const endMarkerPos = q.indexOf(DELIMITER)
  if (endMarkerPos < 0 || q.indexOf(DELIMITER, endMarkerPos + 1) >= 0) {
    throw new DelimiterNotFoundError(tagStatus(words), q.split(DELIMITER).length - 1)
  }

  // The buffer read from just after `~` round to `~` itself is oldest → newest, endstop last.
  // Its length is not checked, as in the reference: the hash pins the end marker, not the length.
  const length = q.length
  if (length < ENDSTOP_CHARS) {
    throw new MalformedInputError('q', `${length} characters cannot hold the ${ENDSTOP_CHARS}-character endstop`)
  }
  if (endMarkerPos > 0xffff) {
    throw new MalformedInputError('q', `end marker at ${endMarkerPos} does not fit the hash's 16-bit field`)
  }
  const bytes = asBytesTwice(q)
  const start = endMarkerPos + 1
  const endstop = start + length - ENDSTOP_CHARS

  const h0 = group(bytes, endstop)
  const h1 = group(bytes, endstop + 4)
  const h2 = group(bytes, endstop + 8)
  const elapsedMins = elapsedGroup(bytes, endstop + 12)
  if ((h0 | h1 | h2 | elapsedMins) < 0) throw invalidCharacter(q, endstop, ENDSTOP_CHARS - 1)
  urlHash[0] = h0 >>> 16
  urlHash[1] = h0 >>> 8
  urlHash[2] = h0
  urlHash[3] = h1 >>> 16
  urlHash[4] = h1 >>> 8
  urlHash[5] = h1
  urlHash[6] = h2 >>> 16
  const nPairs = h2 & 0xffff

  const payloadChars = length - ENDSTOP_CHARS
  if (nPairs > 0) {
    if (payloadChars % DEMI_CHARS !== 0) {
      throw new MalformedInputError(
        'q',
        `${payloadChars} payload characters do not divide into ${DEMI_CHARS}-character demis`,
      )
    }
    if (Math.ceil(nPairs / 2) * DEMI_CHARS > payloadChars) {
      throw new MalformedInputError(
        'q',
        `declares ${nPairs} pairs but the buffer holds at most ${(payloadChars / DEMI_CHARS) * 2}`,
      )
    }
  }

  const messageLength = nPairs * PAIR_BYTES + STATUS_TRAILER_BYTES
  if (message.length < messageLength) message = Buffer.allocUnsafe(messageLength)
  const pairs = new Uint16Array(nPairs * 2)
  let n = 0
  let demi = endstop - DEMI_CHARS
  if (nPairs % 2 === 1) {
    // The newest demi holds one valid pair, in its first half; the second half is the unhashed
    // placeholder, which the reference decodes too, so it must at least be base64.
    const valid = group(bytes, demi)
    const placeholder = group(bytes, demi + 4)
    if ((valid | placeholder) < 0) throw invalidCharacter(q, demi, DEMI_CHARS)
    putPair(pairs, n++, valid)
    demi -= DEMI_CHARS
  }
  while (n < nPairs) {
    const older = group(bytes, demi)
    const newer = group(bytes, demi + 4)
    if ((older | newer) < 0) throw invalidCharacter(q, demi, DEMI_CHARS)
    putPair(pairs, n++, newer)
    putPair(pairs, n++, older)
    demi -= DEMI_CHARS
  }

  writeTrailer(message, nPairs * PAIR_BYTES, words, endMarkerPos)
  const hashType: HashType = input.useHmac ? 'HMAC_MD5' : 'MD5'
  const calculated = digest(message.subarray(0, messageLength), hashType, input.secretKey)
  if (!hashMatches(calculated, urlHash)) {
    throw new MessageIntegrityError(hex(calculated), hex(urlHash))
  }

  const intervalMins = decodeInterval(input.timeintb64)
  const newestMs = input.scanTime.getTime() - elapsedMins * MINUTE_MS
  const intervalMs = intervalMins * MINUTE_MS
  const clock: Clock = { newestMs, intervalMs }
  const samples = formatCode === 1 ? temperatureAndHumidity(pairs, clock) : temperatureOnly(pairs, clock)
  const oldestMs = newestMs - Math.max(samples.length - 1, 0) * intervalMs
  if (oldestMs < MIN_TIME_MS || newestMs > MAX_TIME_MS) {
    throw new MalformedInputError('scantime', 'sample timestamps would fall outside the years 1 to 9999')
  }

  return {
    formatCode,
    encoderMajorVersion: CODEC_MAJOR_VERSION,
    status: tagStatus(words),
    endMarkerPos,
    elapsedMins,
    intervalMins,
    hash: hex(urlHash),
    hashType,
    nPairs,
    pairs,
    newestTimestamp: new Date(newestMs),
    samples,
  }
}

function checkArguments(input: DecodeInput): void {
  // Spelled out rather than looped: this runs on every decode.
  checkString(input.vfmtb64, 'v')
  checkString(input.statb64, 'x')
  checkString(input.circb64, 'q')
  checkString(input.timeintb64, 't')
  checkString(input.secretKey, 'secretkey')
  if (typeof input.useHmac !== 'boolean') {
    throw new MalformedInputError('secretkey', `useHmac must be a boolean, got ${typeof input.useHmac}`)
  }
  // An empty HMAC key equals the all-zero key: no secret at all.
  if (input.useHmac && input.secretKey.length === 0) throw new MalformedInputError('secretkey', 'the key is empty')
  const scanMs = input.scanTime instanceof Date ? input.scanTime.getTime() : Number.NaN
  if (!(scanMs >= MIN_TIME_MS && scanMs <= MAX_TIME_MS)) {
    throw new MalformedInputError('scantime', 'expected a valid Date in the years 1 to 9999')
  }
}

function checkString(value: unknown, param: MalformedParam): void {
  if (typeof value !== 'string') throw new MalformedInputError(param, `expected a string, got ${typeof value}`)
}

/** The last 4 characters of `v`: codec major version (uint16 big-endian) and format code. */
function decodeVersion(vfmtb64: string): FormatCode {
  const length = vfmtb64.length
  if (length < 4) throw new MalformedInputError('v', `expected at least 4 characters, got ${length}`)
  const bits = decodeQuad(vfmtb64, length - 4)
  if (bits < 0) {
    const problem = base64Problem(vfmtb64.slice(-4), 3) ?? 'invalid base64url'
    throw new MalformedInputError('v', `last 4 characters: ${problem}`)
  }
  const major = bits >>> 8
  if (major !== CODEC_MAJOR_VERSION) throw new InvalidMajorVersionError(major, CODEC_MAJOR_VERSION)
  const format = bits & 0xff
  if (format !== 1 && format !== 2) throw new InvalidFormatError(format)
  return format
}

/** `t`: uint16 little-endian minutes, written as 3 characters and one `.`; spare bits ignored, as by the reference. */
function decodeInterval(timeintb64: string): number {
  const a = sextet(timeintb64.charCodeAt(0))
  const b = sextet(timeintb64.charCodeAt(1))
  const c = sextet(timeintb64.charCodeAt(2))
  if (timeintb64.length !== 4 || timeintb64[3] !== PAD || (a | b | c) < 0) {
    throw new MalformedInputError('t', base64Problem(timeintb64, 2) ?? 'invalid base64url')
  }
  const lsb = (a << 2) | (b >> 4)
  const msb = ((b & 15) << 4) | (c >> 2)
  return lsb | (msb << 8)
}

/**
 * `q` as bytes, twice in a row: the buffer linearised from any start is then one contiguous run.
 * Non-ASCII characters become a byte outside the alphabet (a latin1 write alone would truncate them).
 */
function asBytesTwice(q: string): Buffer {
  const length = q.length
  if (doubled.length < 2 * length) doubled = Buffer.allocUnsafe(2 * length)
  if (Buffer.byteLength(q, 'utf8') === length) {
    doubled.write(q, 0, length, 'latin1')
  } else {
    for (let i = 0; i < length; i++) {
      const code = q.charCodeAt(i)
      doubled[i] = code < 0x80 ? code : NON_ASCII
    }
  }
  doubled.copy(doubled, length, 0, length)
  return doubled
}

/** 4 characters at `at` as 24 bits; -1 if one is not base64url. */
function group(bytes: Buffer, at: number): number {
  const a = BYTE_SEXTET[bytes[at]!]!
  const b = BYTE_SEXTET[bytes[at + 1]!]!
  const c = BYTE_SEXTET[bytes[at + 2]!]!
  const d = BYTE_SEXTET[bytes[at + 3]!]!
  return (a | b | c | d) < 0 ? -1 : (a << 18) | (b << 12) | (c << 6) | d
}

/** 3 characters (the 4th is `~`) → uint16 little-endian; the 2 spare bits are ignored, as by the reference. */
function elapsedGroup(bytes: Buffer, at: number): number {
  const a = BYTE_SEXTET[bytes[at]!]!
  const b = BYTE_SEXTET[bytes[at + 1]!]!
  const c = BYTE_SEXTET[bytes[at + 2]!]!
  if ((a | b | c) < 0) return -1
  const lsb = (a << 2) | (b >> 4)
  const msb = ((b & 15) << 4) | (c >> 2)
  return lsb | (msb << 8)
}

/** Names the first bad character among `count` from `at` in the doubled buffer, as an index into `q`. */
function invalidCharacter(q: string, at: number, count: number): MalformedInputError {
  for (let k = 0; k < count; k++) {
    const j = (at + k) % q.length
    if ((SEXTET[q.charCodeAt(j)] ?? -1) < 0) {
      return new MalformedInputError('q', `character ${JSON.stringify(q[j])} at index ${j} is not base64url`)
    }
  }
  return new MalformedInputError('q', 'invalid base64url')
}

/** Pair `n` (newest first) into the hashed message and, as two 12-bit readings, into `pairs`. */
function putPair(pairs: Uint16Array, n: number, value: number): void {
  message[n * 3] = value >>> 16
  message[n * 3 + 1] = value >>> 8
  message[n * 3 + 2] = value
  pairs[n * 2] = ((value >>> 12) & 0xff0) | ((value >>> 4) & 0xf)
  pairs[n * 2 + 1] = ((value >>> 4) & 0xff0) | (value & 0xf)
}

/** The hash covers the status words and the end marker position, each uint16 big-endian. */
function writeTrailer(target: Buffer, at: number, words: StatusWords, endMarkerPos: number): void {
  target.writeUInt16BE(words.loopCount, at)
  target.writeUInt16BE(words.resetsAllTime, at + 2)
  target.writeUInt16BE(words.batvResetCause, at + 4)
  target.writeUInt16BE(endMarkerPos, at + 6)
}

function temperatureAndHumidity(pairs: Uint16Array, clock: Clock): CaptureSample[] {
  const count = pairs.length / 2
  const samples: CaptureSample[] = new Array(count)
  for (let k = 0; k < count; k++) samples[k] = new Sample(clock, k, pairs[2 * k]!, pairs[2 * k + 1]!, k, 0)
  return samples
}

/**
 * Each pair holds the older reading in rd0 and the newer in rd1, where 4095 means "not written
 * yet" and is skipped, so a genuine 4095 there is lost and older samples move one interval later,
 * as with the reference.
 */
function temperatureOnly(pairs: Uint16Array, clock: Clock): CaptureSample[] {
  let count = pairs.length
  for (let i = 1; i < pairs.length; i += 2) if (pairs[i] === EMPTY_READING) count--
  const samples: CaptureSample[] = new Array(count)
  let k = 0
  for (let i = 0; i < pairs.length; i += 2) {
    const newer = pairs[i + 1]!
    if (newer !== EMPTY_READING) {
      samples[k] = new Sample(clock, k, newer, null, i / 2, 1)
      k++
    }
    samples[k] = new Sample(clock, k, pairs[i]!, null, i / 2, 0)
    k++
  }
  return samples
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

function hex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < HASH_BYTES; i++) s += HEX[bytes[i]!]
  return s
}
