import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Agent } from 'undici'
import { detailed, Errors, idpUnavailable } from './errors.js'

export interface IdpOptions {
  /** the configured issuer: the only one whose tokens, keys and userinfo we trust */
  issuer: string
  /** explicit JWKS location; otherwise from the issuer's discovery document */
  jwksUrl: string | null
  timeoutMs: number
}

export interface Discovery {
  issuer: string
  jwks_uri: string
  userinfo_endpoint?: string
  token_endpoint?: string
}

export type Userinfo = Record<string, unknown> & { sub: string }

export interface IdpClient {
  readonly issuer: string
  /** connection, header and body timeouts for every request to the IdP (get-jwks uses it too) */
  readonly dispatcher: Agent
  discovery: () => Promise<Discovery>
  jwksUrl: () => Promise<string>
  userinfo: (accessToken: string, expectedSub: string) => Promise<Userinfo>
}

declare module 'fastify' {
  interface FastifyInstance {
    idp: IdpClient
  }
}

function isHttpUrl (value: unknown): value is string {
  if (typeof value !== 'string') return false
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}

function describeFetchFailure (err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out'
    if (cause?.code !== undefined) return cause.code
    return err.message
  }
  return String(err)
}

export function createIdpClient ({ issuer, jwksUrl, timeoutMs }: IdpOptions): IdpClient {
  const dispatcher = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  let discovery: Promise<Discovery> | null = null

  async function fetchJson (url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: unknown }> {
    let response: Response
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json', ...headers },
        signal: AbortSignal.timeout(timeoutMs),
        dispatcher
      })
    } catch (err) {
      throw idpUnavailable(`${new URL(url).host} ${describeFetchFailure(err)}`, { cause: err })
    }
    let body: unknown
    try {
      body = await response.json()
    } catch (err) {
      throw idpUnavailable(`${new URL(url).host} answered ${response.status} without JSON`, { cause: err })
    }
    return { status: response.status, body }
  }

  async function discover (): Promise<Discovery> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
    const { status, body } = await fetchJson(url)
    if (status !== 200 || typeof body !== 'object' || body === null) {
      throw idpUnavailable(`discovery document answered ${status}`)
    }
    const doc = body as Record<string, unknown>
    // OIDC Discovery §4.3: the document must name exactly the issuer we asked.
    if (doc.issuer !== issuer) {
      throw idpUnavailable(`discovery document names issuer ${JSON.stringify(doc.issuer)}, expected ${JSON.stringify(issuer)}`)
    }
    if (!isHttpUrl(doc.jwks_uri)) throw idpUnavailable('discovery document has no valid jwks_uri')
    return {
      issuer,
      jwks_uri: doc.jwks_uri,
      ...(isHttpUrl(doc.userinfo_endpoint) ? { userinfo_endpoint: doc.userinfo_endpoint } : {}),
      ...(isHttpUrl(doc.token_endpoint) ? { token_endpoint: doc.token_endpoint } : {})
    }
  }

  const client: IdpClient = {
    issuer,
    dispatcher,
    discovery () {
      // Concurrent callers share one request; a failure is not remembered, so the next call retries.
      discovery ??= discover().catch(err => { discovery = null; throw err })
      return discovery
    },
    async jwksUrl () {
      return jwksUrl ?? (await client.discovery()).jwks_uri
    },
    async userinfo (accessToken, expectedSub) {
      const { userinfo_endpoint: endpoint } = await client.discovery()
      if (endpoint === undefined) throw idpUnavailable('discovery document has no userinfo_endpoint')
      const { status, body } = await fetchJson(endpoint, { authorization: `Bearer ${accessToken}` })
      if (status !== 200) throw detailed(new Errors.userinfoFailed(`status ${status}`), { details: { upstream_status: status } })
      if (typeof body !== 'object' || body === null || typeof (body as { sub?: unknown }).sub !== 'string') {
        throw new Errors.userinfoFailed('no subject in the response')
      }
      // OIDC Core §5.3.2: the userinfo sub must equal the token's, or the response must not be used.
      if ((body as Userinfo).sub !== expectedSub) throw new Errors.userinfoMismatch()
      return body as Userinfo
    }
  }
  return client
}

export default fp(async function idp (app: FastifyInstance, options: IdpOptions) {
  const client = createIdpClient(options)
  app.decorate('idp', client)
  app.addHook('onClose', async () => { await client.dispatcher.close() })
}, { name: 'idp', fastify: '5.x' })
