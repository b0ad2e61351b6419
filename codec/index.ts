export { decode } from './decode.js'
export { TagEncoder, blockPadding, type TagEncoderConfig } from './encode.js'
export { parseTagUrl, type TagUrlQuery } from './url.js'
export {
  captureToJson,
  errorToJson,
  isoSeconds,
  statusToJson,
  type CaptureJson,
  type CodecErrorJson,
  type SampleJson,
  type StatusJson,
} from './json.js'
export {
  CodecError,
  DelimiterNotFoundError,
  InvalidFormatError,
  InvalidMajorVersionError,
  MalformedInputError,
  MessageIntegrityError,
  NoCircularBufferError,
  type CodecErrorKind,
  type MalformedParam,
} from './errors.js'
export { rawToRh, rawToTemp, rhToRaw, tempToRaw } from './conversions.js'
export { batteryMv } from './status.js'
export { CODEC_MAJOR_VERSION, CODEC_VERSION } from './version.js'
export type {
  CaptureSample,
  DecodedCapture,
  DecodeInput,
  FormatCode,
  HashType,
  ResetCause,
  TagStatus,
} from './types.js'
