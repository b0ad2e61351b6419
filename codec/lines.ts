import { decode } from './decode.js'
import { TagEncoder } from './encode.js'
import { CodecError, MalformedInputError, type MalformedParam } from './errors.js'
import { captureToJson, errorToJson } from './json.js'
import type { DecodeInput } from './types.js'

// One JSON line in, one JSON line out: the CLI's `decode` and `encode`, without the I/O.

type JsonObject = Record<string, unknown>

/** The encoded query values, named alike in the JSON and in DecodeInput, in the decoder's order. */
const QUERY_FIELDS: readonly (readonly ['statb64' | 'timeintb64' | 'circb64' | 'vfmtb64', MalformedParam])[] = [
  ['vfmtb64', 'v'],
  ['statb64', 'x'],
  ['circb64', 'q'],
  ['timeintb64', 't'],
]

/**
 * A vector's `decode_input` as JSON → `{"ok":true,"result":…}` or `{"ok":false,"error":{kind,message}}`.
 * `usehmac` defaults to true and `scantimestamp` to now, as in the reference.
 */
export function decodeLine(line: string, now: () => Date = () => new Date()): string {
  const json = parseObject(line)
  if (typeof json === 'string') return JSON.stringify({ ok: false, error: { kind: 'MalformedInput', message: json } })
  try {
    const capture = decode(decodeInputFromJson(json, now))
    return JSON.stringify({ ok: true, result: captureToJson(capture) })
  } catch (error) {
    if (error instanceof CodecError) return JSON.stringify({ ok: false, error: errorToJson(error) })
    throw error
  }
}

/** A vector's `encoder` object as JSON → `{"url":…}` or `{"error":{kind,message}}`. */
export function encodeLine(line: string): string {
  const json = parseObject(line)
  if (typeof json === 'string') return JSON.stringify({ error: { kind: 'MalformedInput', message: json } })
  try {
    return JSON.stringify({ url: encodeFromJson(json) })
  } catch (error) {
    // The encoder refuses a bad configuration with RangeError or TypeError, as built-ins do.
    if (error instanceof RangeError || error instanceof TypeError) {
      return JSON.stringify({ error: { kind: 'MalformedInput', message: error.message } })
    }
    throw error
  }
}

/** The line's JSON object, or why there is none. */
function parseObject(line: string): JsonObject | string {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    return `the line is not valid JSON: ${(error as Error).message}`
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the line is not a JSON object'
  return value as JsonObject
}

export function decodeInputFromJson(json: JsonObject, now: () => Date = () => new Date()): DecodeInput {
  const input: DecodeInput = {
    statb64: '',
    timeintb64: '',
    circb64: '',
    vfmtb64: '',
    secretKey: '',
    useHmac: true,
    scanTime: new Date(0),
  }
  for (const [field, param] of QUERY_FIELDS) {
    const value = json[field]
    if (typeof value !== 'string') throw new MalformedInputError(param, `"${field}" must be a string`)
    input[field] = value
  }
  if (json.usehmac !== undefined) {
    if (typeof json.usehmac !== 'boolean') throw new MalformedInputError('secretkey', '"usehmac" must be a boolean')
    input.useHmac = json.usehmac
  }
  if (json.secretkey !== undefined || input.useHmac) {
    if (typeof json.secretkey !== 'string') throw new MalformedInputError('secretkey', '"secretkey" must be a string')
    input.secretKey = json.secretkey
  }
  if (json.scantimestamp === undefined || json.scantimestamp === null) {
    input.scanTime = now()
  } else {
    const scanTime = typeof json.scantimestamp === 'string' ? parseIsoTimestamp(json.scantimestamp) : null
    if (scanTime === null) {
      throw new MalformedInputError('scantime', '"scantimestamp" must be an ISO 8601 date-time with a time zone')
    }
    input.scanTime = scanTime
  }
  return input
}

const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/

/** Strict ISO 8601 date-time with a zone (`Z` or ±hh:mm); null for anything else, 30 February included. */
export function parseIsoTimestamp(text: string): Date | null {
  const m = ISO_TIMESTAMP.exec(text)
  if (m === null) return null
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const millis = m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000)
  const offsetHours = Number(m[9] ?? 0)
  const offsetMinutes = Number(m[10] ?? 0)
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null
  const date = new Date(0)
  // setUTCFullYear, unlike Date.UTC, takes years 0–99 literally.
  date.setUTCFullYear(year, month - 1, day)
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null
  date.setUTCHours(hour, minute, second, millis)
  const offsetMs = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return new Date(date.getTime() - offsetMs)
}

function encodeFromJson(json: JsonObject): string {
  const samples = json.samples_pushed ?? []
  if (!Array.isArray(samples)) throw new TypeError('"samples_pushed" must be an array of [rd0, rd1] pairs')
  const encoder = new TagEncoder({
    format: json.format as number,
    serial: json.serial as string,
    secretKey: json.secretkey as string,
    baseUrl: json.baseurl as string,
    httpsDisable: (json.httpsdisable ?? false) as boolean,
    intervalMins: json.smplintervalmins as number,
    useHmac: (json.usehmac ?? true) as boolean,
    resetCause: (json.resetcause ?? 0) as number,
    batteryAdc: json.batteryadc as number,
    resetsAllTime: (json.resetsalltime ?? 0) as number,
    tagError: (json.tagerror ?? false) as boolean,
  })
  for (const sample of samples as unknown[]) {
    if (!Array.isArray(sample) || sample.length < 1 || sample.length > 2) {
      throw new TypeError(`each pushed sample must be [rd0, rd1] or [rd0, null], got ${JSON.stringify(sample)}`)
    }
    const [rd0, rd1] = sample as [unknown, unknown]
    if (typeof rd0 !== 'number' || (rd1 !== undefined && rd1 !== null && typeof rd1 !== 'number')) {
      throw new TypeError(`readings must be integers, got ${JSON.stringify(sample)}`)
    }
    encoder.pushSample(rd0, rd1 ?? undefined)
  }
  const elapsed = json.elapsed_minutes
  if (elapsed !== undefined && elapsed !== null) {
    if (typeof elapsed !== 'number') throw new TypeError('"elapsed_minutes" must be an integer or null')
    encoder.setElapsedMinutes(elapsed)
  }
  return encoder.url()
}
