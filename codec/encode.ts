import { createHash, createHmac } from 'node:crypto'
import { encodeBase64Url } from './base64url.js'
import { CODEC_MAJOR_VERSION } from './version.js'

/** How the firmware is configured (its non-volatile parameters and `enc_init` arguments). */
export interface TagEncoderConfig {
  /** 8 characters, copied into the URL verbatim. */
  serial: string
  /** HMAC key; the firmware uses exactly its first 16 bytes. */
  secretKey: string
  /** Host and path without the scheme, e.g. `plotsensor.com`. */
  baseUrl: string
  /** `http://` instead of `https://`. */
  httpsDisable?: boolean
  /** 2 lays out one temperature per reading; any other code, temperature and humidity pairs. */
  format: number
  intervalMins: number
  useHmac: boolean
  /** Reset-cause byte reported until the cursor first returns to the start of the buffer. */
  resetCause?: number
  /** Battery ADC code (mV = 256 × 1500 / code). */
  batteryAdc: number
  resetsAllTime?: number
  /** The firmware's error mode: the URL carries status only, `q` stays empty and samples go nowhere. */
  tagError?: boolean
}

const BUFFER_BLOCKS = 48
const BLOCK_CHARS = 16
const DEMI_CHARS = 8
const BUFFER_CHARS = BUFFER_BLOCKS * BLOCK_CHARS
const DEMIS = BUFFER_CHARS / DEMI_CHARS
/** Once the endstop wraps, a new pair in a fresh demi evicts a whole older demi. */
const PAIRS_PER_DEMI = 2
/** Payload capacity in pairs: all demis but the two of the endstop. */
const MAX_PAIRS = (DEMIS - 2) * PAIRS_PER_DEMI
const TEMPERATURE_ONLY = 2
/** TLV (4) + record header (8) + the fixed query text and values (40), before base URL and padding. */
const PREAMBLE_FIXED_BYTES = 52
const HMAC_KEY_BYTES = 16
const FILLER = 'MDAw'
const DELIMITER = '~'

type PairState = 'initial' | 'pair0Both' | 'pair0Reading1' | 'pair1Both' | 'pair1Reading1'

/**
 * A virtual tag: the firmware's encoder (cuplcodec's C `sample.c`, `demi.c`, `ndef.c`) replayed
 * over a model of its EEPROM, so that `url()` is the URL the tag would hand a phone, byte for byte.
 */
export class TagEncoder {
  readonly #config: Required<TagEncoderConfig>
  readonly #buffer = new Uint8Array(BUFFER_CHARS)
  #cursorDemi = 0
  #state: PairState = 'initial'
  #overwriting = false
  #nPairs = 0
  #loopCount = 0
  #batvResetCause: number
  /** pairbuf: two 3-byte pairs, the contents of the cursor demi. */
  readonly #pairs = new Uint8Array(6)
  /** Packed 24-bit pairs, oldest first; the hash covers the newest nPairs of them. */
  readonly #history: number[] = []
  #marker = elapsedMarker(0)
  #pushed = false

  constructor(config: TagEncoderConfig) {
    this.#config = checkConfig(config)
    this.#batvResetCause = (this.#config.batteryAdc << 8) | this.#config.resetCause
    for (let i = 0; i < BUFFER_CHARS; i++) this.#buffer[i] = FILLER.charCodeAt(i % FILLER.length)
  }

  /** `enc_pushsample`: rd1 is ignored in format 2, where consecutive readings share a pair. */
  pushSample(rd0: number, rd1?: number): void {
    const temperatureOnly = this.#config.format === TEMPERATURE_ONLY
    checkReading(rd0, 'rd0')
    if (!temperatureOnly) {
      if (rd1 === undefined) throw new TypeError(`format ${this.#config.format} needs two readings per sample`)
      checkReading(rd1, 'rd1')
    }
    // With a tag error the buffer has no blocks; the firmware's writes land outside the NDEF message.
    if (this.#config.tagError) return
    // The firmware marks the empty second slot of a format-2 pair with -1, i.e. 0xFFF.
    const second = temperatureOnly ? -1 : rd1!
    const pairs = this.#pairs

    switch (this.#state) {
      // A new demi: the firmware's pair0_both moves the cursor, then falls through into initial.
      case 'pair0Both':
      case 'initial':
        if (this.#state === 'pair0Both') this.#moveCursor()
        setPair(pairs, 0, rd0, second)
        setPair(pairs, 3, 0, 0)
        this.#nPairs = this.#overwriting ? this.#nPairs + 1 - PAIRS_PER_DEMI : this.#nPairs + 1
        this.#pushHistory(pairs, 0)
        this.#state = temperatureOnly ? 'pair0Reading1' : 'pair1Both'
        break
      case 'pair0Reading1':
        setSecondReading(pairs, 0, rd0)
        this.#history[this.#history.length - 1] = packed(pairs, 0)
        this.#state = 'pair1Both'
        break
      case 'pair1Both':
        setPair(pairs, 3, rd0, second)
        this.#nPairs++
        this.#pushHistory(pairs, 3)
        this.#state = temperatureOnly ? 'pair1Reading1' : 'pair0Both'
        break
      case 'pair1Reading1':
        setSecondReading(pairs, 3, rd0)
        this.#history[this.#history.length - 1] = packed(pairs, 3)
        this.#state = 'pair0Both'
        break
    }

    this.#writeDemi(this.#cursorDemi, encodeBase64Url(pairs))
    this.#marker = elapsedMarker(0)
    this.#pushed = true
  }

  /** `enc_setelapsed`: minutes since the newest sample (16 bits, as the firmware stores them). */
  setElapsedMinutes(minutes: number): void {
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > 0xffff) {
      throw new RangeError(`elapsed minutes must be an integer from 0 to 65535, got ${minutes}`)
    }
    if (this.#config.tagError) return
    this.#marker = elapsedMarker(minutes)
    if (!this.#pushed) this.#corruptBeforeFirstPush()
  }

  /** The whole URL, as an NFC reader would read it from the tag. */
  url(): string {
    const preamble = this.#preamble()
    if (this.#config.tagError) return preamble
    const buffer = this.#buffer.slice()
    // Every push rewrites the endstop just after the cursor demi, and a moving cursor overwrites the
    // old one, so the endstop (and its hash) is only ever needed here.
    if (this.#pushed) {
      const endstop = this.#endstop()
      const start = ((this.#cursorDemi + 1) % DEMIS) * DEMI_CHARS
      for (let i = 0; i < endstop.length; i++) buffer[(start + i) % BUFFER_CHARS] = endstop.charCodeAt(i)
    }
    return preamble + Buffer.from(buffer).toString('latin1')
  }

  /**
   * The 12 bytes that precede the URL in the tag's EEPROM: the NDEF TLV (type 0x03, 0xFF, 16-bit
   * length) and the URI record header (flags 0xC1, type length 1, 32-bit payload length, 'U',
   * URI identifier 0x04 https:// or 0x03 http://).
   */
  ndefHeader(): Uint8Array {
    const preambleBlocks = (PREAMBLE_FIXED_BYTES + this.#config.baseUrl.length + blockPadding(this.#config.baseUrl)) / BLOCK_CHARS
    const bufferBlocks = this.#config.tagError ? 0 : BUFFER_BLOCKS
    const messageLength = (preambleBlocks + bufferBlocks) * BLOCK_CHARS - 4
    const header = Buffer.alloc(12)
    header.set([0x03, 0xff], 0)
    header.writeUInt16BE(messageLength, 2)
    header.set([0xc1, 0x01], 4)
    header.writeUInt32BE(messageLength - 7, 6)
    header[10] = 0x55
    header[11] = this.#config.httpsDisable ? 0x03 : 0x04
    return header
  }

  /** `demi_movecursor` and what `enc_pushsample` does with its result. */
  #moveCursor(): void {
    if (this.#cursorDemi === DEMIS - 1) {
      this.#cursorDemi = 0
      this.#newLoop()
    } else {
      this.#cursorDemi++
    }
    // From the last block on, the endstop wraps over the start of the buffer: data start being lost.
    if (this.#cursorDemi >> 1 === BUFFER_BLOCKS - 1) this.#overwriting = true
  }

  /** `incr_loopcounter`: re-reads the battery and clears the reset cause. */
  #newLoop(): void {
    this.#loopCount = (this.#loopCount + 1) & 0xffff
    this.#batvResetCause = (this.#config.batteryAdc << 8) & 0xffff
  }

  #pushHistory(pairs: Uint8Array, at: number): void {
    this.#history.push(packed(pairs, at))
    if (this.#history.length > MAX_PAIRS) this.#history.shift()
  }

  #writeDemi(demi: number, chars: string): void {
    const at = (demi % DEMIS) * DEMI_CHARS
    for (let i = 0; i < DEMI_CHARS; i++) this.#buffer[at + i] = chars.charCodeAt(i)
  }

  /** Hash and pair count (12 characters), then elapsed minutes and `~` (4). */
  #endstop(): string {
    const hashn = new Uint8Array(9)
    hashn.set(this.#digest().subarray(0, 7))
    hashn[7] = this.#nPairs >> 8
    hashn[8] = this.#nPairs & 0xff
    return encodeBase64Url(hashn) + this.#marker
  }

  /** `pairhist_hash`: the newest nPairs pairs, newest first, then the status and end marker position. */
  #digest(): Buffer {
    const message = Buffer.alloc(this.#nPairs * 3 + 8)
    for (let k = 0; k < this.#nPairs; k++) {
      const pair = this.#history[this.#history.length - 1 - k]!
      message[3 * k] = pair >>> 16
      message[3 * k + 1] = pair >>> 8
      message[3 * k + 2] = pair
    }
    const at = this.#nPairs * 3
    message.writeUInt16BE(this.#loopCount, at)
    message.writeUInt16BE(this.#config.resetsAllTime, at + 2)
    message.writeUInt16BE(this.#batvResetCause, at + 4)
    message.writeUInt16BE((this.#cursorDemi * DEMI_CHARS + 23) % BUFFER_CHARS, at + 6)
    if (!this.#config.useHmac) return createHash('md5').update(message).digest()
    const key = Buffer.from(this.#config.secretKey, 'utf8').subarray(0, HMAC_KEY_BYTES)
    return createHmac('md5', key).update(message).digest()
  }

  #statusB64(): string {
    const status = Buffer.alloc(6)
    status.writeUInt16LE(this.#loopCount, 0)
    status.writeUInt16LE(this.#config.resetsAllTime, 2)
    status.writeUInt16LE(this.#batvResetCause, 4)
    return encodeBase64Url(status)
  }

  /** The query parameters that follow the base URL, up to and including `&q=`. */
  #parameters(): string {
    const { baseUrl, serial, format, intervalMins } = this.#config
    const interval = new Uint8Array([intervalMins & 0xff, intervalMins >> 8])
    const version = new Uint8Array([CODEC_MAJOR_VERSION >> 8, CODEC_MAJOR_VERSION & 0xff, format])
    return (
      `/?t=${encodeBase64Url(interval)}&s=${serial}` +
      `&v=${'0'.repeat(blockPadding(baseUrl))}${encodeBase64Url(version)}` +
      `&x=${this.#statusB64()}&q=`
    )
  }

  #preamble(): string {
    const scheme = this.#config.httpsDisable ? 'http://' : 'https://'
    return scheme + this.#config.baseUrl + this.#parameters()
  }

  /**
   * `enc_setelapsed` before any `enc_pushsample` commits the second buffer block from RAM, which
   * still holds a never-written endstop (NULs) and the tail of the preamble that `ndef_writepreamble`
   * left there: the URL then carries NULs and a second `&v=`.
   */
  #corruptBeforeFirstPush(): void {
    const { baseUrl } = this.#config
    // ndef_writepreamble flushes the base URL block by block through RAM block 0 and writes the
    // rest (last base-URL fragment, then the parameters) from the start of RAM, or from byte 12
    // if the base URL fits the first block.
    const inFirstBlock = BLOCK_CHARS - 12
    let ramStart: number
    let tail: string
    if (baseUrl.length <= inFirstBlock) {
      ramStart = 12
      tail = baseUrl + this.#parameters()
    } else {
      const last = ((baseUrl.length - inFirstBlock - 1) % BLOCK_CHARS) + 1
      ramStart = 0
      tail = baseUrl.slice(baseUrl.length - last) + this.#parameters()
    }
    const block = '\0\0\0\0' + this.#marker + tail.slice(24 - ramStart, 32 - ramStart)
    for (let i = 0; i < BLOCK_CHARS; i++) this.#buffer[BLOCK_CHARS + i] = block.charCodeAt(i)
  }
}

/** Zeros in `v` that pad the preamble (TLV, record header, URL up to `&q=`) to whole 16-byte blocks. */
export function blockPadding(baseUrl: string): number {
  return (BLOCK_CHARS - ((PREAMBLE_FIXED_BYTES + baseUrl.length) % BLOCK_CHARS)) % BLOCK_CHARS
}

function elapsedMarker(minutes: number): string {
  return encodeBase64Url(new Uint8Array([minutes & 0xff, (minutes >> 8) & 0xff])).slice(0, 3) + DELIMITER
}

/** `set_pair`: rd0 and rd1 high bytes, then both low nibbles; readings keep their low 12 bits. */
function setPair(pairs: Uint8Array, at: number, rd0: number, rd1: number): void {
  pairs[at] = (rd0 >> 4) & 0xff
  pairs[at + 1] = (rd1 >> 4) & 0xff
  pairs[at + 2] = ((rd0 & 0xf) << 4) | (rd1 & 0xf)
}

/** `set_rd1` */
function setSecondReading(pairs: Uint8Array, at: number, rd1: number): void {
  pairs[at + 1] = (rd1 >> 4) & 0xff
  pairs[at + 2] = (pairs[at + 2]! & 0xf0) | (rd1 & 0xf)
}

function packed(pairs: Uint8Array, at: number): number {
  return (pairs[at]! << 16) | (pairs[at + 1]! << 8) | pairs[at + 2]!
}

function checkReading(value: number, name: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`)
}

function checkConfig(config: TagEncoderConfig): Required<TagEncoderConfig> {
  const full: Required<TagEncoderConfig> = {
    ...config,
    httpsDisable: config.httpsDisable ?? false,
    resetCause: config.resetCause ?? 0,
    resetsAllTime: config.resetsAllTime ?? 0,
    tagError: config.tagError ?? false,
  }
  if (typeof full.serial !== 'string' || !/^[A-Za-z0-9._~-]{8}$/.test(full.serial)) {
    throw new RangeError(`serial must be 8 unreserved URL characters, got ${JSON.stringify(full.serial)}`)
  }
  if (typeof full.baseUrl !== 'string' || !/^[\x21-\x7e]*$/.test(full.baseUrl)) {
    throw new RangeError(`baseUrl must be printable ASCII without spaces, got ${JSON.stringify(full.baseUrl)}`)
  }
  if (typeof full.secretKey !== 'string') throw new TypeError('secretKey must be a string')
  checkInteger(full.format, 'format', 0xff)
  checkInteger(full.intervalMins, 'intervalMins', 0xffff)
  checkInteger(full.resetCause, 'resetCause', 0xff)
  checkInteger(full.batteryAdc, 'batteryAdc', 0xff)
  checkInteger(full.resetsAllTime, 'resetsAllTime', 0xffff)
  for (const flag of ['httpsDisable', 'useHmac', 'tagError'] as const) {
    if (typeof full[flag] !== 'boolean') throw new TypeError(`${flag} must be a boolean`)
  }
  return full
}

function checkInteger(value: number, name: string, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${value}`)
  }
}
