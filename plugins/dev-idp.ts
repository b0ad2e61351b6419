import { OAuth2Server } from 'oauth2-mock-server'

export interface DevIdp {
  server: OAuth2Server
  /** issuer URL, as it appears in tokens and discovery */
  issuer: string
  tokenUrl: string
  stop: () => Promise<void>
}

export interface DevIdpOptions {
  port?: number
  audience: string
}

function subjectOfBearer (authorization: string | undefined): string | undefined {
  const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1]
  const payload = token?.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }
    return typeof claims.sub === 'string' ? claims.sub : undefined
  } catch {
    return undefined
  }
}

function clientIdOf (req: { headers: Record<string, string | string[] | undefined>, body?: unknown }): string {
  const basic = /^Basic (\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1]
  if (basic !== undefined) return Buffer.from(basic, 'base64').toString('utf8').split(':')[0] ?? 'dev-client'
  const id = (req.body as { client_id?: unknown } | undefined)?.client_id
  return typeof id === 'string' && id !== '' ? id : 'dev-client'
}

/**
 * An OpenID Connect provider for development and tests: oauth2-mock-server on loopback with a
 * fresh RS256 key. Tokens get our audience unless the request names one; client-credentials
 * tokens get an Auth0-style subject (`<client>@clients`); /userinfo answers for the token's
 * subject (the stock mock always says "johndoe").
 */
export async function startDevIdp ({ port = 0, audience }: DevIdpOptions): Promise<DevIdp> {
  const server = new OAuth2Server()
  await server.issuer.keys.generate('RS256')
  await server.start(port, '127.0.0.1')
  // the mock names itself "localhost", which may resolve to ::1 where nothing listens
  const issuer = `http://127.0.0.1:${server.address().port}`
  server.issuer.url = issuer

  server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: { headers: Record<string, string | string[] | undefined>, body?: { grant_type?: string, aud?: unknown } }) => {
    // the mock honours a requested audience for client credentials only; the password grant too
    if (typeof req.body?.aud === 'string' && req.body.aud !== '') token.payload.aud = req.body.aud
    if (token.payload.aud === undefined || (Array.isArray(token.payload.aud) && token.payload.aud.length === 0)) {
      token.payload.aud = audience
    }
    if (req.body?.grant_type === 'client_credentials' && token.payload.sub === undefined) {
      token.payload.sub = `${clientIdOf(req)}@clients`
    }
  })
  server.service.on('beforeUserinfo', (response: { body: Record<string, unknown>, statusCode: number }, req: { headers: Record<string, string | undefined> }) => {
    const sub = subjectOfBearer(req.headers.authorization)
    if (sub === undefined) {
      response.statusCode = 401
      response.body = { error: 'invalid_token' }
      return
    }
    response.body = { sub, name: `Dev User ${sub}`, nickname: sub.split('|').pop() ?? sub, locale: 'en' }
  })

  return {
    server,
    issuer,
    tokenUrl: `${issuer}/token`,
    stop: async () => { if (server.listening) await server.stop() }
  }
}
