import { existsSync, readFileSync } from 'node:fs'
import type { CodecErrorKind, DecodeInput, MalformedParam, TagEncoderConfig } from '../../codec/index.js'

// The reference vectors: the in-repo copy first, so that a clone without ../shared still runs.

export const fixtureVectorsUrl = new URL('../fixtures/vectors/sample.json', import.meta.url)
export const sharedVectorsUrl = new URL('../../../shared/vectors/sample.json', import.meta.url)

export interface VectorEncoder {
  format: number
  serial: string
  secretkey: string
  baseurl: string
  httpsdisable: boolean
  smplintervalmins: number
  usehmac: boolean
  resetcause: number
  batteryadc: number
  resetsalltime: number
  tagerror: boolean
  elapsed_minutes: number | null
  n_pushed: number
  samples_pushed: [number, number | null][]
}

export interface VectorDecodeInput {
  secretkey: string
  usehmac: boolean
  scantimestamp: string
  statb64: string
  timeintb64: string
  circb64: string
  vfmtb64: string
}

export type VectorExpected =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: { class: string; fields: Record<string, unknown>; message: string } }

export interface Vector {
  id: string
  kind: string
  source: string
  description: string
  encoder?: VectorEncoder
  url?: string
  query?: Record<string, string>
  decode_input: VectorDecodeInput
  expected: VectorExpected
}

export interface VectorFile {
  meta: Record<string, unknown>
  vectors: Vector[]
}

export function vectorsPath(): URL {
  return existsSync(fixtureVectorsUrl) ? fixtureVectorsUrl : sharedVectorsUrl
}

export function loadVectors(): VectorFile {
  return JSON.parse(readFileSync(vectorsPath(), 'utf8')) as VectorFile
}

export function decodeInputOf(input: VectorDecodeInput): DecodeInput {
  return {
    statb64: input.statb64,
    timeintb64: input.timeintb64,
    circb64: input.circb64,
    vfmtb64: input.vfmtb64,
    secretKey: input.secretkey,
    useHmac: input.usehmac,
    scanTime: new Date(input.scantimestamp),
  }
}

export function encoderConfigOf(encoder: VectorEncoder): TagEncoderConfig {
  return {
    serial: encoder.serial,
    secretKey: encoder.secretkey,
    baseUrl: encoder.baseurl,
    httpsDisable: encoder.httpsdisable,
    format: encoder.format,
    intervalMins: encoder.smplintervalmins,
    useHmac: encoder.usehmac,
    resetCause: encoder.resetcause,
    batteryAdc: encoder.batteryadc,
    resetsAllTime: encoder.resetsalltime,
    tagError: encoder.tagerror,
  }
}

/** The reference decoder's own errors, and the kind each becomes here. */
export const REFERENCE_ERRORS: Record<string, CodecErrorKind> = {
  InvalidMajorVersionError: 'InvalidMajorVersion',
  InvalidFormatError: 'InvalidFormat',
  MessageIntegrityError: 'MessageIntegrity',
  NoCircularBufferError: 'NoCircularBuffer',
  DelimiterNotFoundError: 'DelimiterNotFound',
}

export type Decision =
  | { kind: 'MalformedInput'; param: MalformedParam; why: string }
  | { kind: 'NoCircularBuffer'; why: string }

/** What we do where the reference crashes: one decision per vector, so a new crash vector needs one. */
export const CRASH_DECISIONS: Record<string, Decision> = {
  'f1-tagerror-batv0': {
    kind: 'NoCircularBuffer',
    why: 'the data are sound: a tag error with battery code 0; the reference only crashed formatting its message',
  },
  'f1-hmac-n5~q-hash-char-bang': { kind: 'MalformedInput', param: 'q', why: '"!" in the endstop is not base64url' },
  'f1-hmac-n5~q-hash-char-nonascii': { kind: 'MalformedInput', param: 'q', why: '"é" in the endstop is not base64url' },
  'f1-hmac-n5~x-truncated': { kind: 'MalformedInput', param: 'x', why: 'x must be 8 characters' },
  'f1-hmac-n5~x-4chars': { kind: 'MalformedInput', param: 'x', why: 'x must be 8 characters' },
  'f1-hmac-n5~t-8chars': { kind: 'MalformedInput', param: 't', why: 't must be 2 bytes' },
  'f1-hmac-n5~v-empty': { kind: 'MalformedInput', param: 'v', why: 'v needs at least 4 characters' },
  'f1-hmac-n5~q-delete-payload-char': {
    kind: 'MalformedInput',
    param: 'q',
    why: 'the payload no longer divides into 8-character demis',
  },
  'f1-md5-n188~crafted-npairs-too-big': {
    kind: 'MalformedInput',
    param: 'q',
    why: '588 pairs declared, the buffer holds 188',
  },
}
