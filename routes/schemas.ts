import { Type, type Static } from 'typebox'

// The JSON shapes of the API, in one place. Field names are the original system's: the
// frontend reads them (SPEC §5).

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  code: Type.String()
}, { $id: 'Error', additionalProperties: true, description: 'Every error: status, reason phrase, message for people, code for programs' })

/** ISO 8601 UTC; handlers return Dates, the serializer writes them out */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' })

export const Userinfo = Type.Object({ sub: Type.String() }, {
  additionalProperties: true,
  description: 'Claims from the identity provider\'s /userinfo, fetched per request with the caller\'s token; never stored'
})

export const User = Type.Object({
  id: Type.Integer(),
  oauth_id: Type.String({ description: 'the `sub` of the caller at the identity provider' }),
  timeregistered: Timestamp
})

export const UserWithInfo = Type.Object({
  id: Type.Integer(),
  oauth_id: Type.String(),
  timeregistered: Timestamp,
  userinfo: Userinfo
})

export type UserT = Static<typeof User>

/** Response schemas for the errors a route can answer with, by status. */
export function errorResponses (...statuses: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map(status => [status, ErrorBody]))
}

export const Serial = Type.String({ pattern: '^[A-Za-z0-9_-]{8}$', description: '8 characters, as the tag writes them in `s`' })
export const SecretKey = Type.String({ pattern: '^[\\x21-\\x7E]{16}$', description: '16 printable ASCII characters: the tag\'s HMAC-MD5 key' })
export const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 })
export const IdParams = Type.Object({ id: Id })

/** A tag as the public sees it: never the secret key. */
export const PublicTag = Type.Object({
  serial: Type.String(),
  timeregistered: Timestamp,
  description: Type.Union([Type.String(), Type.Null()])
})

export const AdminTag = Type.Object({
  id: Type.Integer(),
  serial: Type.String(),
  secretkey: Type.String(),
  fwversion: Type.Union([Type.String(), Type.Null()]),
  hwversion: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  timeregistered: Timestamp
})

const TagFields = {
  serial: Serial,
  secretkey: SecretKey,
  fwversion: Type.Union([Type.String({ maxLength: 50 }), Type.Null()]),
  hwversion: Type.Union([Type.String({ maxLength: 50 }), Type.Null()]),
  description: Type.Union([Type.String({ maxLength: 280 }), Type.Null()])
}
/** POST /tags (missing serial and key are generated) and PUT /tag/{id} (fields given are changed) */
export const TagBody = Type.Partial(Type.Object(TagFields), { additionalProperties: false })

/** The five query values of a tag URL, as the frontend posts them. */
export const CaptureBody = Type.Object({
  serial: Type.String({ minLength: 1, maxLength: 64, description: '`s`' }),
  statusb64: Type.String({ maxLength: 64, description: '`x`' }),
  timeintb64: Type.String({ maxLength: 64, description: '`t`' }),
  circbufb64: Type.String({ maxLength: 2048, description: '`q` (empty when the tag reported an error)' }),
  vfmtb64: Type.String({ maxLength: 64, description: '`v`' })
}, { additionalProperties: true })

export const CaptureStatus = Type.Object({
  id: Type.Integer(),
  parent_capture: Type.Integer(),
  resetsalltime: Type.Integer(),
  brownout: Type.Boolean(),
  clockfail: Type.Boolean(),
  lpm5wakeup: Type.Boolean(),
  misc: Type.Boolean(),
  supervisor: Type.Boolean(),
  watchdog: Type.Boolean(),
  scantimeout: Type.Boolean()
})

export const Capture = Type.Object({
  id: Type.Integer(),
  tagserial: Type.String(),
  timestamp: Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', description: 'scan time' }),
  loopcount: Type.Integer(),
  batvoltagemv: Type.Union([Type.Number(), Type.Null()], { description: 'null when the tag reported battery code 0' }),
  cursorpos: Type.Integer({ description: 'position of the end marker in q' }),
  version: Type.Integer({ description: 'codec major version of the tag\'s encoder' }),
  format: Type.Integer({ description: '1: temperature and humidity; 2: temperature only' }),
  timeintmins: Type.Integer({ description: 'sample interval, minutes' }),
  elapsedmins: Type.Integer({ description: 'minutes between the newest sample and the scan' }),
  nsamples: Type.Integer(),
  md5: Type.String({ description: 'hex of the truncated HMAC-MD5 from the URL' }),
  status: CaptureStatus
})

export const Location = Type.Object({
  id: Type.Integer(),
  capturesample_id: Type.Integer(),
  timestamp: Timestamp,
  description: Type.String()
})

export const Sample = Type.Object({
  id: Type.Integer(),
  capture_id: Type.Integer(),
  timestamp: Timestamp,
  temp: Type.Number({ description: '°C' }),
  rh: Type.Union([Type.Number(), Type.Null()], { description: '%RH; null for temperature-only tags' }),
  location: Type.Union([Location, Type.Null()])
})

export const TagView = Type.Object({
  id: Type.Integer(),
  tagserial: Type.String(),
  timestamp: Timestamp
})

export const AdminTagView = Type.Object({
  id: Type.Integer(),
  user_id: Type.Integer(),
  tag_id: Type.Integer(),
  tagserial: Type.String(),
  timestamp: Timestamp
})
