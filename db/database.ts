import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider } from 'kysely'
import pg from 'pg'
import type { DatabaseConfig } from '../config.js'
import * as initial from './migrations/0001_initial.js'
import type { Database } from './schema.js'

// int8 (ids of samples, count(*)) as numbers: every value we store fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, value => Number(value))

const migrations: Record<string, Migration> = {
  '0001_initial': initial
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

export interface DatabaseHandle {
  db: Kysely<Database>
  /** "PostgreSQL" or "embedded PGlite (…)" — for logs, never contains credentials */
  description: string
  close: () => Promise<void>
}

export async function migrateToLatest (db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider })
  const { error, results } = await migrator.migrateToLatest()
  if (error !== undefined) throw error instanceof Error ? error : new Error(String(error))
  return (results ?? []).filter(r => r.status === 'Success').map(r => r.migrationName)
}

const PREPARED_MAX = 500
const statementNames = new Map<string, string>()

/**
 * Runs each parameterised statement as a named prepared statement, so PostgreSQL parses and
 * plans it once per connection instead of on every request (for the capture insert and the
 * sample listings that was about half of the database's time: docs/performance.md). Our SQL has
 * a bounded set of texts; past PREPARED_MAX distinct ones, statements go unnamed as before.
 */
function preparedStatements (pool: pg.Pool): void {
  pool.on('connect', client => {
    // A new client knows of no prepared statements, but the server session may: PGlite has one
    // session that outlives the pool's connections. Queued first, so it runs before any use.
    client.query('DEALLOCATE ALL').catch(() => undefined)
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    client.query = ((text: unknown, values?: unknown, callback?: unknown) => {
      if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) return query(text, values, callback)
      let name = statementNames.get(text)
      if (name === undefined && statementNames.size < PREPARED_MAX) {
        name = `wsb_${statementNames.size}`
        statementNames.set(text, name)
      }
      return name === undefined ? query(text, values) : query({ name, text, values })
    }) as typeof client.query
  })
}

function poolErrorLogger (pool: pg.Pool): void {
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', err => { process.emitWarning(`PostgreSQL pool: ${err.message}`) })
}

export interface PoolOptions {
  /** connections to PostgreSQL (PGlite serves one) */
  poolSize?: number
  /** an idle connection is closed after this long (pg's default: 10 s) */
  idleTimeoutMillis?: number
}

async function openPostgres (url: string, { poolSize = 10, idleTimeoutMillis }: PoolOptions): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000, idleTimeoutMillis })
  poolErrorLogger(pool)
  preparedStatements(pool)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, description: 'PostgreSQL', close: () => db.destroy() }
}

// Embedded PostgreSQL: PGlite behind its socket server, reached through the same `pg` driver as
// production, so values come back with the same types (see docs/decisions.md).
async function openPglite (dataDir: string | null, { idleTimeoutMillis }: PoolOptions): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const pglite = await PGlite.create(dataDir ?? 'memory://')
  const socketDir = await mkdtemp(path.join(tmpdir(), 'wsbackend-pglite-'))
  const server = new PGLiteSocketServer({ db: pglite, path: path.join(socketDir, '.s.PGSQL.5432'), maxConnections: 1 })
  await server.start()
  // PGlite is single-connection: a larger pool would be refused by the socket server.
  const pool = new pg.Pool({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres', max: 1, idleTimeoutMillis })
  poolErrorLogger(pool)
  preparedStatements(pool)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    description: `embedded PGlite (${dataDir ?? 'in memory'})`,
    close: async () => {
      await db.destroy()
      await server.stop()
      await pglite.close()
      await rm(socketDir, { recursive: true, force: true })
    }
  }
}

export async function openDatabase (config: DatabaseConfig, pool: PoolOptions = {}): Promise<DatabaseHandle> {
  return config.kind === 'postgres' ? await openPostgres(config.url, pool) : await openPglite(config.dataDir, pool)
}
