import { STATUS_CODES } from 'node:http'
import createError, { type FastifyError } from '@fastify/error'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

// Every error the API answers with, one constructor per meaning. The body's `code` (the
// constructor's code in lower case) is what clients branch on; the message is for people.
// Details (extra body fields) and headers are attached with `detailed()`.
export const Errors = {
  missingToken: createError('MISSING_TOKEN', 'Authorization header with a Bearer token is required', 401),
  malformedAuthorization: createError('MALFORMED_AUTHORIZATION', 'Authorization header must be "Bearer <token>"', 401),
  invalidToken: createError<[string]>('INVALID_TOKEN', '%s', 403),
  insufficientScope: createError('INSUFFICIENT_SCOPE', 'The token lacks required scope(s): %s', 403),
  idpUnavailable: createError<[string]>('IDP_UNAVAILABLE', 'The identity provider is unavailable: %s', 503),
  userinfoFailed: createError('USERINFO_FAILED', 'The identity provider answered /userinfo with an error: %s', 502),
  userinfoMismatch: createError('USERINFO_SUB_MISMATCH', 'The identity provider returned userinfo for a different subject', 502),
  userNotRegistered: createError('USER_NOT_REGISTERED', 'The caller is not registered: POST /api/consumer/v1/users first', 404),
  userExists: createError('USER_EXISTS', 'The caller is already registered', 409),
  notFound: createError('NOT_FOUND', '%s', 404),
  notPermitted: createError<[string]>('NOT_PERMITTED', '%s', 401),
  badRequest: createError('BAD_REQUEST', '%s', 400),
  conflict: createError('CONFLICT', '%s', 409),
  captureRejected: createError<[string]>('CAPTURE_REJECTED', '%s', 400)
} as const

export interface ErrorExtras {
  /** extra fields merged into the JSON body */
  details?: Record<string, unknown>
  headers?: Record<string, string>
  /** overrides the body's `code` (e.g. invalid_token errors carry their reason here) */
  code?: string
  /** overrides the constructor's status (one constructor, several outcomes: decoder failures) */
  status?: number
}

const extrasKey = Symbol('errorExtras')

export function detailed<E extends Error> (error: E, extras: ErrorExtras): E {
  Object.defineProperty(error, extrasKey, { value: extras, enumerable: false })
  return error
}

function extrasOf (error: unknown): ErrorExtras {
  return (error as { [extrasKey]?: ErrorExtras })[extrasKey] ?? {}
}

const OWN_CODES = new Set(Object.values(Errors).map(E => new E('').code))

/** 404 `tag_not_found`: the consumer routes that take a serial. */
export function tagNotFound (serial: string): Error {
  return detailed(new Errors.notFound(`No tag with serial "${serial}"`), { code: 'tag_not_found' })
}

/** Seconds a client should wait before retrying when the IdP is unreachable. */
export const IDP_RETRY_AFTER_SECONDS = 10

/** The IdP could not be reached, timed out or answered nonsense: 503 with Retry-After. */
export function idpUnavailable (reason: string, cause?: unknown): InstanceType<typeof Errors.idpUnavailable> {
  const error = new Errors.idpUnavailable(reason)
  if (cause !== undefined) error.cause = cause
  return detailed(error, { headers: { 'retry-after': String(IDP_RETRY_AFTER_SECONDS) } })
}

function fastifyCode (error: FastifyError): string {
  if (error.validation !== undefined) return 'invalid_request'
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'unsupported_media_type'
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'body_too_large'
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return 'invalid_body'
    default: return 'bad_request'
  }
}

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'])

/**
 * PostgreSQL refusals that are the request's fault or a race, not ours: a value it cannot store
 * (a NUL character, say) is the caller's 400; a record removed or added by a concurrent request
 * between our check and our write is a 409 — the same answer a moment later would have given;
 * a deadlock, or a database that cannot be reached, is a 503 to retry.
 */
function databaseRefusal (error: unknown): { status: number, code: string, message: string, retry?: boolean } | null {
  const e = error as { severity?: unknown, code?: unknown }
  if (typeof e.code === 'string' && CONNECTION_FAILURES.has(e.code)) return { status: 503, code: 'database_unavailable', message: 'The database cannot be reached; try again shortly', retry: true }
  if (typeof e.severity !== 'string' || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return null
  // a deadlock or serialization failure is transient: the same request again will go through
  if (e.code === '40P01' || e.code === '40001') return { status: 503, code: 'database_busy', message: 'The database was busy with a conflicting change; try again', retry: true }
  // connection exceptions, too many connections, shutting down
  if (/^(08|53|57P0)/.test(e.code)) return { status: 503, code: 'database_unavailable', message: 'The database cannot serve the request now; try again shortly', retry: true }
  if (e.code.startsWith('22')) return { status: 400, code: 'invalid_value', message: 'The request holds a value that cannot be stored (for example a NUL character)' }
  if (e.code === '23503') return { status: 409, code: 'concurrent_change', message: 'A record this request refers to was removed meanwhile' }
  if (e.code === '23505') return { status: 409, code: 'concurrent_change', message: 'A record this request would create was created meanwhile' }
  return null
}

export interface ErrorBody {
  statusCode: number
  error: string
  message: string
  code: string
  [field: string]: unknown
}

export default fp(async function errors (app: FastifyInstance) {
  app.setErrorHandler(function (error: FastifyError, request, reply) {
    const refusal = databaseRefusal(error)
    if (refusal !== null) {
      request.log[refusal.status >= 500 ? 'warn' : 'info']({ code: error.code }, 'database refused the request')
      const body: ErrorBody = { statusCode: refusal.status, error: STATUS_CODES[refusal.status] ?? 'Error', message: refusal.message, code: refusal.code }
      if (refusal.retry === true) void reply.header('retry-after', '1')
      return reply.code(refusal.status).type('application/json; charset=utf-8').send(body)
    }
    const extras = extrasOf(error)
    const declared = extras.status ?? error.statusCode
    const status = typeof declared === 'number' && declared >= 400 && declared < 600 ? declared : 500
    const own = OWN_CODES.has(error.code)
    let body: ErrorBody
    if (status >= 500 && !own) {
      request.log.error({ err: error }, 'unhandled error')
      body = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: 'Internal Server Error', code: 'internal_error' }
    } else {
      if (status >= 500) request.log.warn({ code: error.code, msg: error.message }, 'upstream failure')
      body = {
        statusCode: status,
        error: STATUS_CODES[status] ?? 'Error',
        message: error.message,
        code: extras.code ?? (own ? error.code.toLowerCase() : fastifyCode(error)),
        ...extras.details
      }
    }
    if (extras.headers !== undefined) void reply.headers(extras.headers)
    return reply.code(status).type('application/json; charset=utf-8').send(body)
  })

  app.setNotFoundHandler(function (request, reply) {
    return reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `Route ${request.method} ${request.url.split('?')[0] ?? ''} not found`,
      code: 'route_not_found'
    } satisfies ErrorBody)
  })
}, { name: 'errors', fastify: '5.x' })
