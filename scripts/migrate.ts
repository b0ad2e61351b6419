// Applies pending migrations to the configured database (DATABASE_URL, or ./data by default).
import { ConfigError, loadConfig } from '../config.js'
import { migrateToLatest, openDatabase } from '../db/database.js'

try {
  const config = loadConfig({ ...process.env, IDP_ISSUER: process.env.IDP_ISSUER ?? 'http://unused.invalid' })
  const handle = await openDatabase(config.database, { poolSize: 1 })
  try {
    const applied = await migrateToLatest(handle.db)
    console.log(applied.length === 0 ? `${handle.description}: up to date` : `${handle.description}: applied ${applied.join(', ')}`)
  } finally {
    await handle.close()
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(1)
}
