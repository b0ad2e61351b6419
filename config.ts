import path from 'node:path'

export type DatabaseConfig =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string | null } // null = in memory

export interface Scopes {
  readUser: string
  writeUser: string
  writeLocations: string
  adminRead: string
  adminWrite: string
}

export interface Config {
  port: number
  host: string
  nodeEnv: string
  logLevel: string
  database: DatabaseConfig
  /** null = start the built-in development IdP */
  idpIssuer: string | null
  idpJwksUrl: string | null
  /** loopback port of the development IdP (only when IDP_ISSUER is unset) */
  devIdpPort: number
  audience: string
  corsOrigins: string[]
  clockToleranceSeconds: number
  jwksCacheTtlSeconds: number
  jwksCooldownSeconds: number
  idpTimeoutMs: number
  /** verified tokens remembered so a reused token skips re-verification; 0 disables */
  tokenCacheSize: number
  scopes: Scopes
}

export class ConfigError extends Error {
  constructor (readonly variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/ // RFC 6749 scope-token

function integer (env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function httpUrl (env: Env, name: string): string | null {
  const raw = env[name]
  if (raw === undefined || raw === '') return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${raw}"`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`)
  }
  return raw
}

function database (env: Env): DatabaseConfig {
  const raw = env.DATABASE_URL
  if (raw === undefined || raw === '') return { kind: 'pglite', dataDir: path.resolve('data') }
  if (raw === 'memory://') return { kind: 'pglite', dataDir: null }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      // eslint-disable-next-line no-new
      new URL(raw)
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL')
    }
    return { kind: 'postgres', url: raw }
  }
  if (raw.startsWith('file://')) return { kind: 'pglite', dataDir: path.resolve(raw.slice('file://'.length)) }
  // never echo the value: it may hold a password
  throw new ConfigError('DATABASE_URL', 'must start with postgres://, postgresql://, file:// or be memory://')
}

function scope (env: Env, name: string, fallback: string): string {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!SCOPE_PATTERN.test(raw)) throw new ConfigError(name, `must be a single scope token, got "${raw}"`)
  return raw
}

export function loadConfig (env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development'
  const logLevel = env.LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  }
  const idpIssuer = httpUrl(env, 'IDP_ISSUER')
  if (idpIssuer === null && nodeEnv === 'production') {
    throw new ConfigError('IDP_ISSUER', 'must be set when NODE_ENV=production (the development IdP is never started in production)')
  }
  const audience = env.API_AUDIENCE ?? 'wsbackend'
  if (audience === '') throw new ConfigError('API_AUDIENCE', 'must not be empty')

  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map(s => s.trim()).filter(Boolean)
  for (const origin of corsOrigins) {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      throw new ConfigError('CORS_ORIGINS', `must be a comma-separated list of origins, got "${origin}"`)
    }
    if (url.origin !== origin) throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin (expected e.g. ${url.origin})`)
  }

  return {
    port: integer(env, 'PORT', 5000, 0, 65535),
    host: env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST,
    nodeEnv,
    logLevel,
    database: database(env),
    idpIssuer,
    idpJwksUrl: httpUrl(env, 'IDP_JWKS_URL'),
    devIdpPort: integer(env, 'DEV_IDP_PORT', 5001, 0, 65535),
    audience,
    corsOrigins,
    clockToleranceSeconds: integer(env, 'JWT_CLOCK_TOLERANCE_SECONDS', 30, 0, 600),
    jwksCacheTtlSeconds: integer(env, 'JWKS_CACHE_TTL_SECONDS', 600, 1, 86400),
    jwksCooldownSeconds: integer(env, 'JWKS_COOLDOWN_SECONDS', 30, 0, 3600),
    idpTimeoutMs: integer(env, 'IDP_TIMEOUT_MS', 5000, 50, 60000),
    tokenCacheSize: integer(env, 'TOKEN_CACHE_SIZE', 10000, 0, 1000000),
    scopes: {
      readUser: scope(env, 'SCOPE_READ_USER', 'read:user'),
      writeUser: scope(env, 'SCOPE_WRITE_USER', 'write:user'),
      writeLocations: scope(env, 'SCOPE_WRITE_LOCATIONS', 'write:locations'),
      adminRead: scope(env, 'SCOPE_ADMIN_READ', 'admin:read'),
      adminWrite: scope(env, 'SCOPE_ADMIN_WRITE', 'admin:write')
    }
  }
}
