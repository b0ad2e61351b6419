import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { detailed, Errors } from './errors.js'
import { SigningKeys, UnknownKeyError } from './signing-keys.js'

export interface AuthOptions {
  issuer: string
  audience: string
  clockToleranceSeconds: number
  jwksCacheTtlSeconds: number
  jwksCooldownSeconds: number
  /** verified tokens remembered (0 = verify every request) */
  tokenCacheSize: number
}

/** Verified claims of the caller's access token. */
export interface Claims {
  sub: string
  iss: string
  aud: string | string[]
  exp: number
  iat?: number
  scopes: ReadonlySet<string>
  /** the raw access token, for calls to the IdP on the caller's behalf (userinfo); never log it */
  token: string
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set by the auth guard on routes whose schema declares `security`; null elsewhere */
    claims: Claims | null
  }
}

/** Security scheme names a route schema may use; both mean "this IdP's bearer access token". */
export const SECURITY_SCHEMES = ['bearerAuth', 'oauth2'] as const

export const REALM = 'wsbackend'

/**
 * Tokens verified recently, so a client's next request with the same token skips decoding, key
 * lookup and signature check. An entry lives until the token expires, and never longer than the
 * signing-key cache TTL, so a token is re-verified at least as often as its key is re-fetched.
 * Oldest entries go first when full.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { claims: Claims, until: number }>()
  constructor (private readonly max: number, private readonly ttlMs: number) {}

  get (token: string, now: number): Claims | undefined {
    const entry = this.entries.get(token)
    if (entry === undefined) return undefined
    if (entry.until > now) return entry.claims
    this.entries.delete(token)
    return undefined
  }

  set (token: string, claims: Claims, expiresAtMs: number, now: number): void {
    if (this.max === 0) return
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string)
    this.entries.set(token, { claims, until: Math.min(expiresAtMs, now + this.ttlMs) })
  }
}
const AUTH_GUARD = Symbol.for('wsbackend.authGuard')

type Reason =
  | 'malformed_token' | 'wrong_algorithm' | 'unknown_key' | 'wrong_issuer' | 'wrong_audience'
  | 'missing_claim' | 'token_expired' | 'token_not_yet_valid' | 'bad_signature' | 'invalid_token'

function invalidToken (reason: Reason, message: string): Error {
  // The message may quote the token's own header (alg, kid): only printable ASCII goes into a
  // header, or Node refuses to send it.
  const safe = message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?').slice(0, 200)
  return detailed(new Errors.invalidToken(message), {
    code: reason,
    details: { reason },
    headers: { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="${safe}"` }
  })
}

/** Node keeps only the first of repeated Authorization headers; "Bearer <one token>" means one. */
function authorizationHeaders (request: FastifyRequest): number {
  const raw = request.raw.rawHeaders
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') n++
  return n
}

function unauthenticated (error: Error): Error {
  return detailed(error, { headers: { 'www-authenticate': `Bearer realm="${REALM}"` } })
}

/** Scopes from `scope` (space-separated), `permissions` (Auth0 RBAC) and `scp`, as one set. */
export function scopesOf (payload: Record<string, unknown>): Set<string> {
  const scopes = new Set<string>()
  const add = (value: unknown): void => {
    if (typeof value === 'string') for (const s of value.split(' ')) { if (s !== '') scopes.add(s) }
    else if (Array.isArray(value)) for (const s of value) { if (typeof s === 'string' && s !== '') scopes.add(s) }
  }
  add(payload.scope)
  add(payload.permissions)
  add(payload.scp)
  return scopes
}

/** The route's alternatives of required scopes (OpenAPI semantics: any one alternative suffices). */
function requirementsOf (route: RouteOptions): string[][] | null {
  const security = (route.schema as { security?: Array<Record<string, string[]>> } | undefined)?.security
  if (security === undefined) return null
  if (!Array.isArray(security) || security.length === 0) {
    throw new Error(`${route.method} ${route.url}: schema.security must be a non-empty array (omit it for an open route)`)
  }
  return security.map(requirement => {
    const schemes = Object.keys(requirement)
    if (schemes.length === 0) throw new Error(`${route.method} ${route.url}: anonymous alternatives ({}) are not supported`)
    for (const scheme of schemes) {
      if (!(SECURITY_SCHEMES as readonly string[]).includes(scheme)) {
        throw new Error(`${route.method} ${route.url}: unknown security scheme "${scheme}"`)
      }
    }
    return [...new Set(schemes.flatMap(scheme => requirement[scheme] ?? []))]
  })
}

export function isGuarded (route: RouteOptions): boolean {
  const hooks = route.onRequest
  const list = hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]
  return list.some(hook => (hook as { [AUTH_GUARD]?: boolean })[AUTH_GUARD] === true)
}

export function claimsOf (request: FastifyRequest): Claims {
  if (request.claims === null) throw new Error('claimsOf() on a route without security')
  return request.claims
}

function preVerify (header: Record<string, unknown>, payload: Record<string, unknown>, options: AuthOptions, now: number): void {
  // Everything that can be judged without the key is judged first: a token from another
  // issuer, with another algorithm or already expired never causes a JWKS request.
  if (header.alg !== 'RS256') throw invalidToken('wrong_algorithm', `Algorithm ${JSON.stringify(header.alg)} is not accepted; tokens must be RS256`)
  if (typeof header.kid !== 'string' || header.kid === '') throw invalidToken('unknown_key', 'The token header names no signing key (kid)')
  if (typeof payload.iss !== 'string') throw invalidToken('missing_claim', 'The iss claim is required')
  if (payload.iss !== options.issuer) throw invalidToken('wrong_issuer', 'The token was not issued by the configured identity provider')
  for (const claim of ['sub', 'aud', 'exp']) {
    if (!(claim in payload)) throw invalidToken('missing_claim', `The ${claim} claim is required`)
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw invalidToken('missing_claim', 'The sub claim must be a non-empty string')
  const aud = payload.aud
  const audiences = Array.isArray(aud) ? aud : [aud]
  if (!audiences.includes(options.audience)) throw invalidToken('wrong_audience', `The token is not meant for audience "${options.audience}"`)
  const tolerance = options.clockToleranceSeconds
  if (typeof payload.exp !== 'number') throw invalidToken('missing_claim', 'The exp claim must be a number')
  if (payload.exp + tolerance <= now) throw invalidToken('token_expired', 'The token has expired')
  for (const claim of ['nbf', 'iat']) {
    const value = payload[claim]
    if (value === undefined) continue
    if (typeof value !== 'number') throw invalidToken('malformed_token', `The ${claim} claim must be a number`)
    if (value - tolerance > now) throw invalidToken('token_not_yet_valid', `The token is not valid yet (${claim} is in the future)`)
  }
}

function mapVerifyError (err: unknown): Error {
  if (err instanceof Errors.invalidToken) return err
  if (err instanceof UnknownKeyError) return invalidToken('unknown_key', err.message)
  if (err instanceof Errors.idpUnavailable) return err
  const code = (err as { code?: string }).code
  switch (code) {
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED': return invalidToken('token_expired', 'The token has expired')
    case 'FAST_JWT_INACTIVE': return invalidToken('token_not_yet_valid', 'The token is not valid yet')
    case 'FAST_JWT_MISSING_SIGNATURE': return invalidToken('bad_signature', 'The token is not signed')
    // Claims were checked before the key lookup, so what fast-jwt still rejects is the signature.
    case 'FST_JWT_AUTHORIZATION_TOKEN_INVALID': return invalidToken('bad_signature', 'The token signature does not verify')
    default: return invalidToken('invalid_token', 'The token could not be verified')
  }
}

/**
 * Bearer-token authentication against one OpenID Connect provider (SPEC §2). Route schemas
 * declare `security: [{ bearerAuth: [scopes…] }]`; this plugin's onRoute hook turns each
 * declaration into a guard. Register it in the same scope as the routes it protects, before them.
 */
export default fp(async function auth (app: FastifyInstance, options: AuthOptions) {
  const keys = new SigningKeys({
    jwksUrl: () => app.idp.jwksUrl(),
    dispatcher: app.idp.dispatcher,
    cacheTtlMs: options.jwksCacheTtlSeconds * 1000,
    cooldownMs: options.jwksCooldownSeconds * 1000
  })

  // Requests whose token got as far as the key lookup; a failure before that is a decoding failure.
  const decoded = new WeakSet<FastifyRequest>()

  await app.register(fastifyJwt, {
    decode: { complete: true },
    secret: async (request: FastifyRequest, token: unknown) => {
      decoded.add(request)
      const { header, payload } = token as { header: Record<string, unknown>, payload: unknown }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        throw invalidToken('malformed_token', 'The token payload is not a JSON object')
      }
      preVerify(header, payload as Record<string, unknown>, options, Date.now() / 1000)
      return await keys.publicKey(header.kid as string)
    },
    verify: {
      algorithms: ['RS256'],
      allowedIss: options.issuer,
      allowedAud: options.audience,
      requiredClaims: ['iss', 'sub', 'aud', 'exp'],
      clockTolerance: options.clockToleranceSeconds * 1000 // fast-jwt counts milliseconds
    }
  })

  const verified = new VerifiedTokens(options.tokenCacheSize, options.jwksCacheTtlSeconds * 1000)

  app.decorateRequest('claims', null)

  async function authenticate (request: FastifyRequest): Promise<Claims> {
    const header = request.headers.authorization
    if (header === undefined || header === '') throw unauthenticated(new Errors.missingToken())
    const match = /^Bearer ([^\s]+)$/i.exec(header)
    if (match === null || authorizationHeaders(request) > 1) throw unauthenticated(new Errors.malformedAuthorization())
    const token = match[1] as string
    const known = verified.get(token, Date.now())
    if (known !== undefined) return known
    let payload: Record<string, unknown>
    try {
      payload = (await request.jwtVerify()) as unknown as Record<string, unknown>
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'FST_JWT_BAD_REQUEST') throw unauthenticated(new Errors.malformedAuthorization())
      if (!decoded.has(request)) throw invalidToken('malformed_token', 'The token is not a well-formed JWT')
      throw mapVerifyError(err)
    }
    const claims: Claims = {
      sub: payload.sub as string,
      iss: payload.iss as string,
      aud: payload.aud as string | string[],
      exp: payload.exp as number,
      ...(typeof payload.iat === 'number' ? { iat: payload.iat } : {}),
      scopes: scopesOf(payload),
      token
    }
    verified.set(token, claims, (claims.exp + options.clockToleranceSeconds) * 1000, Date.now())
    return claims
  }

  app.addHook('onRoute', route => {
    const alternatives = requirementsOf(route)
    if (alternatives === null) return
    const guard: onRequestHookHandler = async function (request) {
      const claims = await authenticate(request)
      request.claims = claims
      if (alternatives.some(scopes => scopes.every(scope => claims.scopes.has(scope)))) return
      const missing = alternatives[0]!.filter(scope => !claims.scopes.has(scope))
      throw detailed(new Errors.insufficientScope(missing.join(' ')), {
        details: { missing_scopes: missing },
        headers: { 'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${alternatives[0]!.join(' ')}"` }
      })
    }
    Object.defineProperty(guard, AUTH_GUARD, { value: true })
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
    route.onRequest = [guard, ...existing]
  })
}, { name: 'auth', fastify: '5.x', dependencies: ['idp', 'errors'] })

