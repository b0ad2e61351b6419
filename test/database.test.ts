import { sql } from 'kysely'
import t from 'tap'
import { migrateToLatest, openDatabase } from '../db/database.js'
import { freshDatabase } from './helpers.js'

// Statements are prepared per connection. A connection the pool closed and opened again must
// not trip over statements its session still has (PGlite keeps one session for all of them).

t.test('statements keep working after the pool replaces an idle connection', async t => {
  const fresh = await freshDatabase()
  const handle = await openDatabase(fresh.config, { idleTimeoutMillis: 100 })
  t.teardown(async () => { await handle.close(); await fresh.drop() })
  await migrateToLatest(handle.db)
  const count = async (serial: string): Promise<number> =>
    (await sql<{ n: number }>`SELECT count(*) AS n FROM tag WHERE serial = ${serial}`.execute(handle.db)).rows[0]!.n
  t.equal(await count('AAAAAAAA'), 0, 'first use prepares the statement')
  t.equal(await count('AAAAAAAA'), 0, 'second use runs the prepared statement')
  await new Promise(resolve => setTimeout(resolve, 400)) // past the idle timeout: the connection closes
  t.equal(await count('BBBBBBBB'), 0, 'the same statement on a new connection')
  await handle.db.insertInto('tag').values({ serial: 'BBBBBBBB', secretkey: 'k'.repeat(16) }).execute()
  t.equal(await count('BBBBBBBB'), 1, 'and it sees what was written')
})
