import type { CodecError, CodecErrorKind } from './errors.js'
import type { DecodedCapture, TagStatus } from './types.js'

/** The reference decoder's field names, as in the vectors' `expected.result` and the CLI's output. */
export interface CaptureJson {
  decoder_class: 'TempRH_URL' | 'Temp_URL'
  encoder_major_version: number
  format_code: number
  status: StatusJson
  endmarkerpos: number
  elapsedmins: number
  timeintervalmins: number
  newest_timestamp: string
  hash: string
  hashtype: 'HMAC_MD5' | 'MD5'
  npairs: number
  pairs_newest_first: [number, number][]
  nsamples: number
  samples: SampleJson[]
}

export interface StatusJson {
  loopcount: number
  resetsalltime: number
  batv_resetcause: number
  batvoltageraw: number
  batvoltagemv: number | null
  resetcauseraw: number
  resetcause: {
    brownout: boolean
    supervisor: boolean
    watchdog: boolean
    misc: boolean
    lpm5wakeup: boolean
    clockfail: boolean
    scantimeout: boolean
  }
}

export interface SampleJson {
  timestamp: string
  temp: number
  rh: number | null
  rawtemp: number
  rawrh: number | null
}

export interface CodecErrorJson {
  kind: CodecErrorKind
  message: string
}

/** ISO 8601 in UTC to the second, e.g. `2022-03-24T13:06:55Z`, as the reference prints it. */
export function isoSeconds(time: Date | number): string {
  return new Date(time).toISOString().slice(0, 19) + 'Z'
}

export function statusToJson(status: TagStatus): StatusJson {
  const { resetCause } = status
  return {
    loopcount: status.loopCount,
    resetsalltime: status.resetsAllTime,
    batv_resetcause: (status.batteryRaw << 8) | status.resetCauseRaw,
    batvoltageraw: status.batteryRaw,
    batvoltagemv: status.batteryMv,
    resetcauseraw: status.resetCauseRaw,
    resetcause: {
      brownout: resetCause.brownout,
      supervisor: resetCause.supervisor,
      watchdog: resetCause.watchdog,
      misc: resetCause.misc,
      lpm5wakeup: resetCause.lpm5Wakeup,
      clockfail: resetCause.clockFail,
      scantimeout: resetCause.scanTimeout,
    },
  }
}

export function captureToJson(capture: DecodedCapture): CaptureJson {
  const pairs: [number, number][] = []
  for (let i = 0; i < capture.pairs.length; i += 2) pairs.push([capture.pairs[i]!, capture.pairs[i + 1]!])
  return {
    decoder_class: capture.formatCode === 1 ? 'TempRH_URL' : 'Temp_URL',
    encoder_major_version: capture.encoderMajorVersion,
    format_code: capture.formatCode,
    status: statusToJson(capture.status),
    endmarkerpos: capture.endMarkerPos,
    elapsedmins: capture.elapsedMins,
    timeintervalmins: capture.intervalMins,
    newest_timestamp: isoSeconds(capture.newestTimestamp),
    hash: capture.hash,
    hashtype: capture.hashType,
    npairs: capture.nPairs,
    pairs_newest_first: pairs,
    nsamples: capture.samples.length,
    samples: capture.samples.map((sample) => ({
      timestamp: isoSeconds(sample.timestampMs),
      temp: sample.temp,
      rh: sample.rh,
      rawtemp: sample.rawTemp,
      rawrh: sample.rawRh,
    })),
  }
}

export function errorToJson(error: CodecError): CodecErrorJson {
  return { kind: error.kind, message: error.message }
}
