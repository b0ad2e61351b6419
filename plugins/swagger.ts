import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Scopes } from '../config.js'

export interface SwaggerOptions {
  /** token endpoint for Swagger UI's "Authorize" (OAuth2 client credentials) */
  tokenUrl: string
  scopes: Scopes
  version: string
  /** serve Swagger UI at /docs (off when only the document is wanted, e.g. `npm run openapi`) */
  ui?: boolean
}

export default fp(async function openapi (app: FastifyInstance, options: SwaggerOptions) {
  const { scopes } = options
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'wsbackend',
        version: options.version,
        description: 'Verifies, decodes, stores and serves captures of cupl NFC temperature/humidity tags.'
      },
      tags: [
        { name: 'consumer', description: 'Consumer API (frontend)' },
        { name: 'admin', description: 'Admin API (admin scopes)' },
        { name: 'operations', description: 'Health and readiness' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'RS256 access token from the configured OpenID Connect provider' },
          oauth2: {
            type: 'oauth2',
            description: 'Client credentials against the identity provider (the development IdP accepts any client id and secret)',
            flows: {
              clientCredentials: {
                tokenUrl: options.tokenUrl,
                scopes: {
                  [scopes.readUser]: 'Read the caller\'s own user record, captures and tag views',
                  [scopes.writeUser]: 'Register, delete the caller; post captures and tag views as the caller',
                  [scopes.writeLocations]: 'Add, edit and delete sample locations',
                  [scopes.adminRead]: 'Read every admin resource',
                  [scopes.adminWrite]: 'Create, change and delete admin resources'
                }
              }
            }
          }
        }
      }
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` }
  })
  if (options.ui !== false) {
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { persistAuthorization: false },
      // Swagger UI's own CSP admits its inline scripts; "Authorize" must also reach the token
      // endpoint, and over plain http (the dev IdP) requests must not be upgraded to https.
      staticCSP: true,
      transformStaticCSP: header => docsCsp(header, options.tokenUrl)
    })
  }
}, { name: 'openapi', fastify: '5.x' })

/** `security` for a route: a bearer token with all of these scopes (either scheme). */
export function bearer (...required: string[]): Array<Record<string, string[]>> {
  return [{ bearerAuth: required }, { oauth2: required }]
}

export function docsCsp (header: string, tokenUrl: string): string {
  const token = new URL(tokenUrl)
  const directives = header.split(';').map(d => d.trim()).filter(d => d !== '')
    .filter(d => !(token.protocol === 'http:' && d === 'upgrade-insecure-requests'))
  return [...directives, `connect-src 'self' ${token.origin}`].join('; ') + ';'
}
