import { parseTagUrl, rhToRaw, TagEncoder, tempToRaw } from '../codec/index.js'

export interface SimulateOptions {
  serial: string
  secretKey: string
  /** where the tag's URL points: scheme, host and path of the frontend */
  frontendUrl: URL
  nSamples: number
  intervalMins: number
  format: 1 | 2
  useHmac: boolean
  batteryMv: number
  resetCause: number
  tagError: boolean
  now: Date
}

const MINUTE_MS = 60_000
const DAY_MS = 24 * 60 * MINUTE_MS

/** A plausible room: a daily sine wave of temperature, humidity in counter-phase. */
function climateAt (ms: number): { temp: number, rh: number } {
  const phase = (2 * Math.PI * (ms % DAY_MS)) / DAY_MS
  return { temp: 20 + 4 * Math.sin(phase), rh: 55 - 10 * Math.sin(phase) }
}

/**
 * The URL the tag would produce now, made by our own encoder. Samples lie on the interval grid
 * counted from the Unix epoch, so the newest is between 0 and interval − 1 minutes old, and
 * simulating the same tag twice within one interval gives the same URL (a replay) — as a real
 * tag would.
 */
export function simulateTagUrl (options: SimulateOptions): string {
  const host = `${options.frontendUrl.host}${options.frontendUrl.pathname.replace(/\/+$/, '')}`
  const encoder = new TagEncoder({
    serial: options.serial,
    secretKey: options.secretKey,
    baseUrl: host,
    httpsDisable: options.frontendUrl.protocol === 'http:',
    format: options.format,
    intervalMins: options.intervalMins,
    useHmac: options.useHmac,
    resetCause: options.resetCause,
    batteryAdc: Math.max(1, Math.min(255, Math.round((256 * 1500) / options.batteryMv))),
    tagError: options.tagError
  })
  const nowMinutes = Math.floor(options.now.getTime() / MINUTE_MS)
  const elapsed = nowMinutes % options.intervalMins
  const newestMs = (nowMinutes - elapsed) * MINUTE_MS
  for (let k = options.nSamples - 1; k >= 0; k--) {
    const { temp, rh } = climateAt(newestMs - k * options.intervalMins * MINUTE_MS)
    if (options.format === 1) encoder.pushSample(tempToRaw(temp), rhToRaw(rh))
    else encoder.pushSample(tempToRaw(temp))
  }
  if (options.nSamples > 0) encoder.setElapsedMinutes(elapsed)
  return encoder.url()
}

export { parseTagUrl }
