import { STATUS_CODES } from 'node:http'
import path from 'node:path'
import accepts from '@fastify/accepts'
import autoload from '@fastify/autoload'
import cors from '@fastify/cors'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Ajv } from 'ajv'
import addFormatsPlugin from 'ajv-formats'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyServerOptions } from 'fastify'
import type { Config, Scopes } from './config.js'
import auth from './plugins/auth.js'
import db from './plugins/db.js'
import errors from './plugins/errors.js'
import idp from './plugins/idp.js'
import securityAudit from './plugins/security-audit.js'
import securityHeaders from './plugins/security-headers.js'
import swagger from './plugins/swagger.js'
import health from './routes/health.js'
import { packageVersion } from './version.js'

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv

// autoload tells TypeScript route files apart by its own detection, which misses `node --import tsx`
process.env.FASTIFY_AUTOLOAD_TYPESCRIPT ??= '1'

export type AppConfig = Omit<Config, 'idpIssuer'> & { idpIssuer: string }

export interface AppOptions {
  config: AppConfig
  /** Swagger UI's OAuth2 token endpoint; defaults to `<issuer>oauth/token` (Auth0's) */
  tokenUrl?: string
  /** serve Swagger UI at /docs (default true) */
  swaggerUi?: boolean
  logger?: FastifyServerOptions['logger']
  /** the clock that dates captures (scan time = now); tests replay scans at chosen times */
  now?: () => Date
  /** extra routes registered inside the API scope, behind the same auth plugin (benchmarks) */
  extraApiRoutes?: FastifyPluginAsync
}

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    scopes: Scopes
    /** current time, for scan times */
    now: () => Date
  }
}

const API_PREFIX_DIRS = new Set(['api', 'consumer', 'admin', 'v1'])

export const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]']

export function loggerOptions (level: string): FastifyServerOptions['logger'] {
  return { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    forceCloseConnections: true,
    pluginTimeout: 120_000, // a cold embedded PGlite takes seconds on a busy machine
    bodyLimit: 64 * 1024,
    // URLs the router cannot take get the API's error shape too, without echoing the URL
    frameworkErrors: (error, _request, untypedReply) => {
      const reply = untypedReply as FastifyReply
      const status = error.statusCode ?? 400
      const [code, message] = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? ['path_too_long', 'A path parameter is too long']
        : error.code === 'FST_ERR_BAD_URL' ? ['bad_url', 'The URL cannot be decoded'] : ['bad_request', 'The request cannot be routed']
      void reply.code(status).type('application/json; charset=utf-8')
        .send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, code })
    }
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Query strings and path parameters are text, so they are coerced ("25" → 25); JSON bodies
  // are not, so an ill-typed field is a 400 rather than silently converted.
  const coercing = addFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false }))
  const strict = addFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false }))
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema))

  app.decorate('config', config)
  app.decorate('scopes', config.scopes)
  app.decorate('now', options.now ?? (() => new Date()))

  await app.register(errors)
  await app.register(securityAudit)
  await app.register(securityHeaders, {})
  await app.register(accepts)
  await app.register(cors, {
    origin: config.corsOrigins.length === 0 ? false : config.corsOrigins,
    credentials: false,
    maxAge: 600,
    // the frontend also edits and deletes (locations, tag views, its user), and pages and
    // downloads with what these headers say
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['Link', 'X-Total-Count', 'WWW-Authenticate', 'Retry-After', 'Content-Disposition', 'X-Request-Id']
  })
  await app.register(swagger, {
    tokenUrl: options.tokenUrl ?? `${config.idpIssuer.replace(/\/?$/, '/')}oauth/token`,
    scopes: config.scopes,
    version: packageVersion,
    ui: options.swaggerUi !== false
  })
  await app.register(db, { database: config.database })
  await app.register(idp, { issuer: config.idpIssuer, jwksUrl: config.idpJwksUrl, timeoutMs: config.idpTimeoutMs })
  await app.register(health)

  // The API scope: auth is registered here, with the routes it guards, and nowhere else.
  await app.register(async api => {
    await api.register(auth, {
      issuer: config.idpIssuer,
      audience: config.audience,
      clockToleranceSeconds: config.clockToleranceSeconds,
      jwksCacheTtlSeconds: config.jwksCacheTtlSeconds,
      jwksCooldownSeconds: config.jwksCooldownSeconds,
      tokenCacheSize: config.tokenCacheSize
    })
    await api.register(autoload, {
      dir: path.join(import.meta.dirname, 'routes', 'api'),
      options: { prefix: '/api' },
      // api/consumer/v1 and api/admin/v1 make the prefix; resource folders declare their own paths
      dirNameRoutePrefix: (_parent, folder) => API_PREFIX_DIRS.has(folder) ? folder : false,
      ignorePattern: /\.(test|spec)\.ts$/
    })
    if (options.extraApiRoutes !== undefined) await api.register(options.extraApiRoutes, { prefix: '/api' })
  })

  return app
}
