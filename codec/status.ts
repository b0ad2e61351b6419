import { base64Problem, decodeQuad } from './base64url.js'
import { MalformedInputError } from './errors.js'
import type { ResetCause, TagStatus } from './types.js'

const BROWNOUT = 0x01
const SUPERVISOR = 0x02
const WATCHDOG = 0x04
const MISC = 0x08
const LPM5_WAKEUP = 0x10
const CLOCK_FAIL = 0x20
const SCAN_TIMEOUT = 0x80

/** Battery mV = 256 × 1500 / ADC code; the reference divides by zero on code 0, we report no voltage. */
export function batteryMv(adcCode: number): number | null {
  return adcCode === 0 ? null : (256 * 1500) / adcCode
}

export function resetCauseFlags(raw: number): ResetCause {
  return {
    brownout: (raw & BROWNOUT) !== 0,
    supervisor: (raw & SUPERVISOR) !== 0,
    watchdog: (raw & WATCHDOG) !== 0,
    misc: (raw & MISC) !== 0,
    lpm5Wakeup: (raw & LPM5_WAKEUP) !== 0,
    clockFail: (raw & CLOCK_FAIL) !== 0,
    scanTimeout: (raw & SCAN_TIMEOUT) !== 0,
  }
}

/** The three status words, in the order the hash covers them. */
export interface StatusWords {
  loopCount: number
  resetsAllTime: number
  batvResetCause: number
}

/**
 * `x`: three uint16 little-endian words (loop count, resets all time, battery/reset cause).
 * Read little-endian whatever the host, unlike the reference's native-order unpack.
 */
export function decodeStatusWords(statb64: string): StatusWords {
  if (statb64.length !== 8) {
    throw new MalformedInputError('x', `expected 8 base64url characters (6 bytes), got ${statb64.length}`)
  }
  const first = decodeQuad(statb64, 0)
  const second = decodeQuad(statb64, 4)
  if ((first | second) < 0) throw new MalformedInputError('x', base64Problem(statb64, 6) ?? 'invalid base64url')
  // Bytes b0..b5 are first >> 16, first >> 8, first, second >> 16, second >> 8, second.
  return {
    loopCount: ((first >>> 16) & 0xff) | (first & 0xff00),
    resetsAllTime: (first & 0xff) | ((second >>> 8) & 0xff00),
    batvResetCause: ((second >>> 8) & 0xff) | ((second & 0xff) << 8),
  }
}

export function tagStatus(words: StatusWords): TagStatus {
  const batteryRaw = words.batvResetCause >> 8
  const resetCauseRaw = words.batvResetCause & 0xff
  return {
    loopCount: words.loopCount,
    resetsAllTime: words.resetsAllTime,
    batteryRaw,
    batteryMv: batteryMv(batteryRaw),
    resetCauseRaw,
    resetCause: resetCauseFlags(resetCauseRaw),
  }
}
