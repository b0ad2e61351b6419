import buildGetJwks, { type GetJwks } from 'get-jwks'
import type { Agent } from 'undici'
import { Errors, idpUnavailable } from './errors.js'

type IdpUnavailableError = InstanceType<typeof Errors.idpUnavailable>

/** The token names a key the IdP does not publish (or we may not ask again yet). */
export class UnknownKeyError extends Error {
  constructor (kid: string, readonly retryLater: boolean) {
    super(retryLater
      ? `Signing key "${kid}" is unknown (JWKS refetch is cooling down)`
      : `Signing key "${kid}" is not in the identity provider's key set`)
    this.name = 'UnknownKeyError'
  }
}

export interface SigningKeysOptions {
  jwksUrl: () => Promise<string>
  dispatcher: Agent
  cacheTtlMs: number
  /** after a miss, unknown kids are refused without asking the IdP for this long */
  cooldownMs: number
  now?: () => number
}

const ALG = 'RS256'
const LAST_GOOD_MAX = 100

interface Instance { getJwks: GetJwks, domain: string }

/**
 * Public keys of the configured IdP, by `kid`, through get-jwks (lookup, cache, TTL refresh,
 * stale fallback). In front of it, what get-jwks lacks (STACK.md §3):
 * - a kid not in the cache is looked up at most once per cooldown after a miss, and concurrent
 *   lookups of unknown kids wait for the one in flight instead of each fetching the JWKS;
 * - keys seen before keep working if a refresh fails because the IdP is down;
 * - failures are classified: the key does not exist (403) vs the IdP is unreachable (503).
 */
export class SigningKeys {
  private instance: Promise<Instance> | null = null
  private unknownLookup: Promise<unknown> | null = null
  /** when an unknown kid last failed to resolve, and whether the IdP said no or was unreachable */
  private lastMiss: { at: number, unreachable: IdpUnavailableError | null } = { at: Number.NEGATIVE_INFINITY, unreachable: null }
  /** kid → the JWK object get-jwks returned and its PEM (converting per request would be slow) */
  private readonly lastGood = new Map<string, { jwk: object, pem: string }>()
  private readonly now: () => number

  constructor (private readonly options: SigningKeysOptions) {
    this.now = options.now ?? Date.now
  }

  private getInstance (): Promise<Instance> {
    this.instance ??= this.options.jwksUrl().then(url => {
      // get-jwks builds `${domain}${jwksPath}`; splitting the full URL this way keeps any path.
      const { origin, pathname, search } = new URL(url)
      const domain = `${origin}/`
      const getJwks = buildGetJwks({
        jwksPath: `${pathname}${search}`.replace(/^\//, '') || '.well-known/jwks.json',
        issuersWhitelist: [domain],
        ttl: this.options.cacheTtlMs,
        max: 100,
        fetchOptions: { dispatcher: this.options.dispatcher }
      })
      return { getJwks, domain }
    }).catch(err => { this.instance = null; throw err })
    return this.instance
  }

  /** PEM of the key, or UnknownKeyError / IdpUnavailableError. */
  async publicKey (kid: string): Promise<string> {
    const { getJwks, domain } = await this.getInstance()
    const cacheKey = getJwks.generateCacheKey(ALG, kid, domain)
    const cached = (getJwks.cache as unknown as { has: (key: string) => boolean }).has(cacheKey)
    if (cached || this.lastGood.has(kid)) return await this.fetch(getJwks, domain, kid, cacheKey)

    // An unknown kid: share a lookup already in flight, then decide again.
    while (this.unknownLookup !== null) await this.unknownLookup.catch(() => undefined)
    if ((getJwks.cache as unknown as { has: (key: string) => boolean }).has(cacheKey)) {
      return await this.fetch(getJwks, domain, kid, cacheKey)
    }
    if (this.now() - this.lastMiss.at < this.options.cooldownMs) {
      throw this.lastMiss.unreachable ?? new UnknownKeyError(kid, true)
    }
    const lookup = this.fetch(getJwks, domain, kid, cacheKey)
    this.unknownLookup = lookup
    try {
      return await lookup
    } catch (err) {
      this.lastMiss = { at: this.now(), unreachable: err instanceof Errors.idpUnavailable ? err : null }
      throw err
    } finally {
      this.unknownLookup = null
    }
  }

  private async fetch (getJwks: GetJwks, domain: string, kid: string, cacheKey: string): Promise<string> {
    try {
      const jwk = await getJwks.getJwk({ domain, alg: ALG, kid })
      const known = this.lastGood.get(kid)
      if (known?.jwk === jwk) return known.pem
      const pem = await getJwks.getPublicKey({ domain, alg: ALG, kid })
      this.remember(kid, jwk, pem)
      return pem
    } catch (err) {
      // get-jwks copies a failed lookup into its stale cache; drop it so a later failure is
      // reported for what it is (STACK.md §3, pitfall 5).
      getJwks.staleCache.delete(cacheKey)
      const code = (err as { code?: string }).code
      if (code === 'JWK_NOT_FOUND' || code === 'NO_JWKS') {
        this.lastGood.delete(kid) // withdrawn by the IdP: from now on it is an unknown kid
        throw new UnknownKeyError(kid, false)
      }
      const lastGood = this.lastGood.get(kid)
      if (lastGood !== undefined) return lastGood.pem
      throw err instanceof Errors.idpUnavailable ? err : idpUnavailable(describe(err), err)
    }
  }

  private remember (kid: string, jwk: object, pem: string): void {
    this.lastGood.delete(kid)
    this.lastGood.set(kid, { jwk, pem })
    if (this.lastGood.size > LAST_GOOD_MAX) this.lastGood.delete(this.lastGood.keys().next().value as string)
  }
}

function describe (err: unknown): string {
  const e = err as { code?: string, message?: string, cause?: { code?: string, name?: string } }
  if (e.code === 'JWKS_REQUEST_FAILED') return 'the JWKS request failed'
  if (e.cause?.code !== undefined) return `JWKS request: ${e.cause.code}`
  if (e.cause?.name === 'HeadersTimeoutError' || e.cause?.name === 'BodyTimeoutError') return 'JWKS request timed out'
  return `JWKS request: ${e.message ?? String(err)}`
}
