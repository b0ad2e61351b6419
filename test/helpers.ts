import { createHmac, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { buildApp, type AppConfig } from '../app.js'
import { loadConfig, type DatabaseConfig } from '../config.js'
import { startDevIdp, type DevIdp } from '../plugins/dev-idp.js'

export const AUDIENCE = 'wsbackend'
export const ALL_SCOPES = 'read:user write:user write:locations admin:read admin:write'

/** Which database the suite runs on: DATABASE_URL (postgres://…) or, unset, in-memory PGlite. */
export const onPostgres = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')

/** A fresh database for one app: its own PostgreSQL database, or a new in-memory PGlite. */
export async function freshDatabase (): Promise<{ config: DatabaseConfig, drop: () => Promise<void> }> {
  if (!onPostgres) return { config: { kind: 'pglite', dataDir: null }, drop: async () => {} }
  const base = new URL(process.env.DATABASE_URL as string)
  const name = `wsb_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: base.toString() })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(base)
  url.pathname = `/${name}`
  return {
    config: { kind: 'postgres', url: url.toString() },
    drop: async () => {
      const client = new pg.Client({ connectionString: base.toString() })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    }
  }
}

export interface TestIdp extends DevIdp {
  /** a signed RS256 token; `claims` are merged over sensible defaults (sub, aud, scope) */
  token: (claims?: Record<string, unknown>, options?: { kid?: string, expiresIn?: number, header?: Record<string, unknown> }) => Promise<string>
  kid: string
}

export async function startIdp (): Promise<TestIdp> {
  const idp = await startDevIdp({ audience: AUDIENCE })
  const kid = idp.server.issuer.keys.toJSON()[0]!.kid
  return {
    ...idp,
    kid,
    token: async (claims = {}, options = {}) => await idp.server.issuer.buildToken({
      kid: options.kid ?? kid,
      expiresIn: options.expiresIn ?? 3600,
      scopesOrTransform: (header, payload) => {
        Object.assign(payload, { sub: 'google-oauth2|1157', aud: AUDIENCE, scope: ALL_SCOPES }, claims)
        for (const [name, value] of Object.entries(claims)) if (value === undefined) delete payload[name]
        Object.assign(header, options.header ?? {})
      }
    })
  }
}

export interface TestApp {
  app: FastifyInstance
  config: AppConfig
  close: () => Promise<void>
}

export async function buildTestApp (idp: { issuer: string }, env: Record<string, string> = {}, tokenUrl?: string, now?: () => Date): Promise<TestApp> {
  const database = await freshDatabase()
  const base = loadConfig({ LOG_LEVEL: 'silent', IDP_ISSUER: idp.issuer, ...env })
  const config: AppConfig = { ...base, idpIssuer: base.idpIssuer ?? idp.issuer, database: database.config }
  const app = await buildApp({ config, swaggerUi: true, ...(tokenUrl !== undefined ? { tokenUrl } : {}), ...(now !== undefined ? { now } : {}) })
  await app.ready()
  return {
    app,
    config,
    close: async () => {
      await app.close()
      await database.drop()
    }
  }
}

/** Counts outbound fetches from this process whose URL matches, e.g. JWKS downloads. */
export function countFetches (): { count: (pattern: RegExp) => number, reset: () => void, restore: () => void } {
  const original = globalThis.fetch
  const urls: string[] = []
  globalThis.fetch = async (input, init) => {
    urls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    return await original(input, init)
  }
  return {
    count: pattern => urls.filter(url => pattern.test(url)).length,
    reset: () => { urls.length = 0 },
    restore: () => { globalThis.fetch = original }
  }
}

export function base64url (value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

/** A JWT with an arbitrary header and payload, signed with HS256 under `secret` (or unsigned). */
export function forgeToken (header: Record<string, unknown>, payload: Record<string, unknown>, secret?: string): string {
  const input = `${base64url(header)}.${base64url(payload)}`
  const signature = secret === undefined ? '' : createHmac('sha256', secret).update(input).digest('base64url')
  return `${input}.${signature}`
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
