import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import {
  CodecError, decode, DelimiterNotFoundError, InvalidFormatError, InvalidMajorVersionError, MalformedInputError,
  MessageIntegrityError, NoCircularBufferError
} from '../codec/index.js'
import { insertCapture, type StoredCapture } from '../db/captures.js'
import { findTagBySerial } from '../db/tags.js'
import { detailed, Errors, tagNotFound } from '../plugins/errors.js'
import type { Capture, CaptureBody } from './schemas.js'

/** Decoder failures as HTTP errors, with the original system's `ecode` (SPEC §5). */
function decodeFailure (err: CodecError): Error {
  if (err instanceof MessageIntegrityError) {
    // Not the hash we calculated: it is the HMAC of these values under the tag's key, and
    // handing it out would let anyone who knows a serial sign whatever they like.
    return detailed(new Errors.captureRejected('The capture\'s hash does not match its data and the tag\'s key'), {
      code: 'hash_mismatch',
      details: { ecode: 103, urlhash: err.urlHash },
      status: 401
    })
  }
  if (err instanceof InvalidMajorVersionError) {
    return detailed(new Errors.captureRejected(err.message), {
      code: 'invalid_major_version', status: 422, details: { ecode: 101, encoderversion: err.encoderVersion, decoderversion: err.decoderVersion }
    })
  }
  if (err instanceof InvalidFormatError) {
    return detailed(new Errors.captureRejected(err.message), { code: 'invalid_format', status: 422, details: { ecode: 102, circformat: err.formatCode } })
  }
  if (err instanceof NoCircularBufferError) {
    return detailed(new Errors.captureRejected('The tag reported an error: its URL carries no samples'), {
      code: 'no_circular_buffer', status: 400, details: { ecode: 104 }
    })
  }
  if (err instanceof DelimiterNotFoundError) {
    return detailed(new Errors.captureRejected('No end-of-buffer marker in circbufb64: the tag has logged nothing yet, or the buffer is damaged'), {
      code: 'delimiter_not_found', status: 422, details: { ecode: 105 }
    })
  }
  const param = err instanceof MalformedInputError ? err.param : undefined
  return detailed(new Errors.captureRejected(`The capture cannot be decoded: ${err.message}`), {
    code: 'malformed_capture', status: 400, details: { ecode: 100, ...(param !== undefined ? { param: PARAM_FIELDS[param] ?? param } : {}) }
  })
}

const PARAM_FIELDS: Record<string, string> = { x: 'statusb64', t: 'timeintb64', q: 'circbufb64', v: 'vfmtb64' }

/**
 * POST /captures and POST /me/captures: decode with the tag's key (always HMAC), scan time =
 * now, store everything in one transaction. Replays answer 409 with the first capture's id.
 */
export async function postCapture (app: FastifyInstance, body: Static<typeof CaptureBody>, userId: number | null): Promise<StoredCapture> {
  const scanTime = app.now()
    const tag = await findTagBySerial(app.db, body.serial)
  if (tag === undefined) throw tagNotFound(body.serial)
  let decoded
  try {
    decoded = decode({
      statb64: body.statusb64,
      timeintb64: body.timeintb64,
      circb64: body.circbufb64,
      vfmtb64: body.vfmtb64,
      secretKey: tag.secretkey,
      useHmac: true,
      scanTime
    })
  } catch (err) {
    if (err instanceof CodecError) throw decodeFailure(err)
    throw err
  }
  const result = await insertCapture(app.db, { tagId: tag.id, tagSerial: tag.serial, userId, scanTime, decoded })
  if (result === undefined) throw tagNotFound(body.serial) // deleted meanwhile
  if (!result.created) {
    throw detailed(new Errors.conflict('This capture has been stored already (the same URL was posted before)'), {
      code: 'capture_exists', details: { capture_id: result.existingId }
    })
  }
  return result.capture
}

/** API shape of a stored capture (SPEC §5 field names). */
export function captureView (capture: StoredCapture): Static<typeof Capture> {
  const { encoderversion, tag_id: _tag, user_id: _user, ...rest } = capture
  return { ...rest, version: encoderversion }
}
