import type { FastifyInstance } from 'fastify'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'

/** The issuer openapi.yaml is generated for: a placeholder Auth0 tenant. */
export const PLACEHOLDER_ISSUER = 'https://your-tenant.eu.auth0.com/'
export const PLACEHOLDER_TOKEN_URL = `${PLACEHOLDER_ISSUER}oauth/token`

export function openApiYaml (app: FastifyInstance): string {
  return app.swagger({ yaml: true })
}

/** The committed document: default scopes, the placeholder IdP. */
export async function generateOpenApi (): Promise<string> {
  const base = loadConfig({ IDP_ISSUER: PLACEHOLDER_ISSUER, LOG_LEVEL: 'silent', DATABASE_URL: 'memory://' })
  const app = await buildApp({ config: { ...base, idpIssuer: PLACEHOLDER_ISSUER }, tokenUrl: PLACEHOLDER_TOKEN_URL, swaggerUi: false, logger: false })
  try {
    await app.ready()
    return openApiYaml(app)
  } finally {
    await app.close()
  }
}
