import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { DatabaseConfig } from '../config.js'
import { migrateToLatest, openDatabase } from '../db/database.js'
import type { Database } from '../db/schema.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>
  }
}

export interface DbOptions {
  database: DatabaseConfig
  /** run pending migrations before serving (default true) */
  migrate?: boolean
}

export default fp(async function db (app: FastifyInstance, options: DbOptions) {
  const handle = await openDatabase(options.database)
  app.addHook('onClose', async () => { await handle.close() })
  if (options.migrate !== false) {
    const applied = await migrateToLatest(handle.db)
    if (applied.length > 0) app.log.info({ migrations: applied }, 'database migrated')
  }
  app.log.info(`database: ${handle.description}`)
  app.decorate('db', handle.db)
}, { name: 'db', fastify: '5.x' })
