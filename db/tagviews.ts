import { sql, type Kysely } from 'kysely'
import type { Database } from './schema.js'

export interface TagViewRow { id: number, user_id: number, tag_id: number, tagserial: string, timestamp: Date }

export async function createTagView (db: Kysely<Database>, userId: number, tagId: number): Promise<TagViewRow> {
  const { rows } = await sql<TagViewRow>`
    WITH v AS (INSERT INTO tag_view (user_id, tag_id) VALUES (${userId}, ${tagId}) RETURNING *)
    SELECT v.*, t.serial AS tagserial FROM v JOIN tag t ON t.id = v.tag_id`.execute(db)
  return rows[0]!
}

export interface TagViewFilter { userId?: number, tagId?: number, distinctOnTag?: boolean }

/** Tag views, newest first; distinctOnTag keeps the newest view of each tag. */
export async function listTagViews (db: Kysely<Database>, filter: TagViewFilter, offset: number, limit: number): Promise<{ items: TagViewRow[], total: number }> {
  const conditions = [sql`true`]
  if (filter.userId !== undefined) conditions.push(sql`v.user_id = ${filter.userId}`)
  if (filter.tagId !== undefined) conditions.push(sql`v.tag_id = ${filter.tagId}`)
  const where = sql.join(conditions, sql` AND `)
  const chosen = filter.distinctOnTag === true
    ? sql`(SELECT DISTINCT ON (v.tag_id) v.* FROM tag_view v WHERE ${where} ORDER BY v.tag_id, v.timestamp DESC, v.id DESC)`
    : sql`(SELECT v.* FROM tag_view v WHERE ${where})`
  const [items, total] = await Promise.all([
    sql<TagViewRow>`SELECT v.*, t.serial AS tagserial FROM ${chosen} v JOIN tag t ON t.id = v.tag_id
      ORDER BY v.timestamp DESC, v.id DESC OFFSET ${offset} LIMIT ${limit}`.execute(db),
    sql<{ n: number }>`SELECT count(*) AS n FROM ${chosen} v`.execute(db)
  ])
  return { items: items.rows, total: total.rows[0]?.n ?? 0 }
}

export async function findTagView (db: Kysely<Database>, id: number): Promise<TagViewRow | undefined> {
  const { rows } = await sql<TagViewRow>`SELECT v.*, t.serial AS tagserial FROM tag_view v JOIN tag t ON t.id = v.tag_id WHERE v.id = ${id}`.execute(db)
  return rows[0]
}

export async function deleteTagView (db: Kysely<Database>, id: number, userId?: number): Promise<boolean> {
  let query = db.deleteFrom('tag_view').where('id', '=', id)
  if (userId !== undefined) query = query.where('user_id', '=', userId)
  return (await query.executeTakeFirst()).numDeletedRows > 0n
}
