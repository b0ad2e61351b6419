/** What `decode` needs: the four encoded query values of a tag URL, the tag's key and when it was scanned. */
export interface DecodeInput {
  /** `x`: status. */
  statb64: string
  /** `t`: sample interval. */
  timeintb64: string
  /** `q`: circular buffer; empty when the tag reported an error. */
  circb64: string
  /** `v`: block padding, codec version and format code. */
  vfmtb64: string
  secretKey: string
  /** HMAC-MD5 with `secretKey`; false checks a plain MD5, which anyone can forge. */
  useHmac: boolean
  /** The newest sample is dated relative to this. */
  scanTime: Date
}

/** 1: temperature and relative humidity, one sample per pair. 2: temperature only, two samples per pair. */
export type FormatCode = 1 | 2

export type HashType = 'HMAC_MD5' | 'MD5'

export interface ResetCause {
  brownout: boolean
  supervisor: boolean
  watchdog: boolean
  misc: boolean
  lpm5Wakeup: boolean
  clockFail: boolean
  scanTimeout: boolean
}

/** The tag's status word (`x`). */
export interface TagStatus {
  /** Times the cursor has returned to the start of the buffer. */
  loopCount: number
  resetsAllTime: number
  /** The battery ADC code (high byte of the status's third word). */
  batteryRaw: number
  /** Battery voltage; null when the ADC code is 0, which no real battery gives. */
  batteryMv: number | null
  /** The reset-cause byte, bit 6 (unused) included. */
  resetCauseRaw: number
  resetCause: ResetCause
}

/**
 * One sample. Only the raw readings are stored; the rest are getters computed on read, so a spread
 * (`{ ...sample }`) copies the raw readings alone: name the fields, or use `JSON.stringify`.
 */
export interface CaptureSample {
  /** When the sample was taken; a new Date on every read. */
  readonly timestamp: Date
  /** The same instant in milliseconds since the epoch. */
  readonly timestampMs: number
  /** °C */
  readonly temp: number
  /** %RH; null in format 2. */
  readonly rh: number | null
  readonly rawTemp: number
  readonly rawRh: number | null
  /** The pair the sample was read from, counted from the newest (0) as in `DecodedCapture.pairs`. */
  readonly pairIndex: number
  /** Which reading of that pair: 1 for rd1, else 0 (format 1 samples take both, and say 0). */
  readonly slot: 0 | 1
}

export interface DecodedCapture {
  formatCode: FormatCode
  encoderMajorVersion: number
  status: TagStatus
  /** Index of `~` in `q`; authenticated, it pins where the cursor was. */
  endMarkerPos: number
  /** Minutes between the newest sample and the scan. */
  elapsedMins: number
  intervalMins: number
  /** 14 hex characters: the first 7 bytes of the digest, as carried in the URL. */
  hash: string
  hashType: HashType
  /** Number of valid pairs in the buffer. */
  nPairs: number
  /** The raw 12-bit readings, rd0 and rd1 interleaved, newest pair first. */
  pairs: Uint16Array
  newestTimestamp: Date
  /** Newest first. */
  samples: CaptureSample[]
}
