import type { TagStatus } from './types.js'

export type CodecErrorKind =
  | 'InvalidMajorVersion'
  | 'InvalidFormat'
  | 'MessageIntegrity'
  | 'NoCircularBuffer'
  | 'DelimiterNotFound'
  | 'MalformedInput'

/** The decoder argument a MalformedInputError blames: a URL query key, the key, or the scan time. */
export type MalformedParam = 'x' | 't' | 'q' | 'v' | 'secretkey' | 'scantime'

/** Base class of every error the codec throws; `kind` tells them apart across process boundaries. */
export abstract class CodecError extends Error {
  abstract readonly kind: CodecErrorKind

  constructor(message: string) {
    super(message)
    this.name = new.target.name
    Error.captureStackTrace?.(this, new.target)
  }
}

/** `v` names a codec major version other than the one this decoder implements. */
export class InvalidMajorVersionError extends CodecError {
  readonly kind = 'InvalidMajorVersion'
  readonly encoderVersion: number
  readonly decoderVersion: number

  constructor(encoderVersion: number, decoderVersion: number) {
    super(`encoder major version ${encoderVersion} is not the decoder's major version ${decoderVersion}`)
    this.encoderVersion = encoderVersion
    this.decoderVersion = decoderVersion
  }
}

/** `v` names a format code that has no decoder (only 1 and 2 exist). */
export class InvalidFormatError extends CodecError {
  readonly kind = 'InvalidFormat'
  readonly formatCode: number

  constructor(formatCode: number) {
    super(`invalid circular buffer format ${formatCode}`)
    this.formatCode = formatCode
  }
}

/** The hash in the URL is not the hash of the data: tampered, corrupted, or decoded with the wrong key. */
export class MessageIntegrityError extends CodecError {
  readonly kind = 'MessageIntegrity'
  readonly calculatedHash: string
  readonly urlHash: string

  constructor(calculatedHash: string, urlHash: string) {
    super(`hash mismatch: calculated ${calculatedHash}, URL has ${urlHash}`)
    this.calculatedHash = calculatedHash
    this.urlHash = urlHash
  }
}

/** `q` is empty: the tag's encoder reported an error. The status is still readable and comes along. */
export class NoCircularBufferError extends CodecError {
  readonly kind = 'NoCircularBuffer'
  readonly status: TagStatus

  constructor(status: TagStatus) {
    super('the tag reported an error: there is no circular buffer')
    this.status = status
  }
}

/**
 * `q` does not contain exactly one `~`. A fresh tag that has logged nothing yet looks like this,
 * so the status comes along.
 */
export class DelimiterNotFoundError extends CodecError {
  readonly kind = 'DelimiterNotFound'
  readonly status: TagStatus
  readonly delimiterCount: number

  constructor(status: TagStatus, delimiterCount: number) {
    super(
      delimiterCount === 0
        ? 'no end marker "~" in the circular buffer: the tag has not logged a sample yet'
        : `the circular buffer has ${delimiterCount} end markers "~", expected exactly one`,
    )
    this.status = status
    this.delimiterCount = delimiterCount
  }
}

/** Anything else that is wrong with the input: bad base64, wrong lengths, impossible counts, bad arguments. */
export class MalformedInputError extends CodecError {
  readonly kind = 'MalformedInput'
  readonly param: MalformedParam
  readonly reason: string

  constructor(param: MalformedParam, reason: string) {
    super(`${param}: ${reason}`)
    this.param = param
    this.reason = reason
  }
}
