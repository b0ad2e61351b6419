import { sql, type Kysely } from 'kysely'
import { lockTag } from './tags.js'
import type { Database, Location } from './schema.js'

export interface LocatedSample {
  /** the canonical copy of the physical sample, where its location lives */
  canonicalId: number
  tagId: number
}

/** The canonical copy of whichever copy `sampleId` is, and its tag. */
export async function canonicalSample (db: Kysely<Database>, sampleId: number): Promise<LocatedSample | undefined> {
  const { rows } = await sql<{ id: number, tag_id: number }>`
    SELECT canon.id, canon.tag_id FROM capture_sample s
    JOIN capture_sample canon ON canon.tag_id = s.tag_id AND canon.canonical AND canon.resetsalltime = s.resetsalltime
      AND canon.seq = s.seq AND canon.rawtemp = s.rawtemp AND canon.rawrh IS NOT DISTINCT FROM s.rawrh
    WHERE s.id = ${sampleId}`.execute(db)
  const row = rows[0]
  return row === undefined ? undefined : { canonicalId: row.id, tagId: row.tag_id }
}

/** Has this user posted a capture of this tag? (the right to annotate its samples) */
export async function hasScanned (db: Kysely<Database>, userId: number, tagId: number): Promise<boolean> {
  const row = await db.selectFrom('capture').select('id').where('user_id', '=', userId).where('tag_id', '=', tagId).limit(1).executeTakeFirst()
  return row !== undefined
}

/**
 * Puts a location on the physical sample of copy `sampleId` of the tag's: 'exists' when it has
 * one, 'gone' when the copy is no longer there. Under the tag's row lock, as storing and deleting
 * captures are, so the canonical copy cannot move or vanish between finding it and inserting.
 */
export async function createLocation (db: Kysely<Database>, tagId: number, sampleId: number, description: string): Promise<Location | 'exists' | 'gone'> {
  return await db.transaction().execute(async trx => {
    await lockTag(trx, tagId)
    const sample = await canonicalSample(trx, sampleId)
    if (sample === undefined || sample.tagId !== tagId) return 'gone'
    const location = await trx.insertInto('location').values({ capturesample_id: sample.canonicalId, tag_id: tagId, description })
      .onConflict(oc => oc.column('capturesample_id').doNothing()).returningAll().executeTakeFirst()
    return location ?? 'exists'
  })
}

export async function findLocation (db: Kysely<Database>, id: number): Promise<Location | undefined> {
  return await db.selectFrom('location').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function updateLocation (db: Kysely<Database>, id: number, description: string): Promise<Location | undefined> {
  return await db.updateTable('location').set({ description }).where('id', '=', id).returningAll().executeTakeFirst()
}

export async function deleteLocation (db: Kysely<Database>, id: number): Promise<boolean> {
  return (await db.deleteFrom('location').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n
}

/** Locations of a tag's samples, newest sample first; the window bounds the sample's time. */
export async function listLocations (
  db: Kysely<Database>, tagId: number, start: Date | null, end: Date | null, offset: number, limit: number
): Promise<{ items: Location[], total: number }> {
  const where = sql`l.tag_id = ${tagId} AND s.timestamp >= ${start ?? sql`'-infinity'::timestamptz`} AND s.timestamp <= ${end ?? sql`'infinity'::timestamptz`}`
  const [items, total] = await Promise.all([
    sql<Location>`SELECT l.* FROM location l JOIN capture_sample s ON s.id = l.capturesample_id WHERE ${where}
      ORDER BY s.timestamp DESC, l.id DESC OFFSET ${offset} LIMIT ${limit}`.execute(db),
    sql<{ n: number }>`SELECT count(*) AS n FROM location l JOIN capture_sample s ON s.id = l.capturesample_id WHERE ${where}`.execute(db)
  ])
  return { items: items.rows, total: total.rows[0]?.n ?? 0 }
}
