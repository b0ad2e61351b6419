import { randomBytes, randomInt } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, NewTag, Tag } from './schema.js'

const SERIAL_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** 8 characters from a CSPRNG (62^8 ≈ 2·10^14 possibilities; uniqueness is still checked). */
export function generateSerial (): string {
  let serial = ''
  for (let i = 0; i < 8; i++) serial += SERIAL_ALPHABET[randomInt(SERIAL_ALPHABET.length)]
  return serial
}

/** 16 characters of base64url: 96 bits from a CSPRNG. The firmware uses the characters as key bytes. */
export function generateSecretKey (): string {
  return randomBytes(12).toString('base64url')
}

export async function findTagBySerial (db: Kysely<Database>, serial: string): Promise<Tag | undefined> {
  return await db.selectFrom('tag').selectAll().where('serial', '=', serial).executeTakeFirst()
}

export async function findTagById (db: Kysely<Database>, id: number): Promise<Tag | undefined> {
  return await db.selectFrom('tag').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The new tag, or undefined when the serial is taken. A generated serial is retried on collision. */
export async function createTag (db: Kysely<Database>, tag: Partial<NewTag>): Promise<Tag | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const created = await db.insertInto('tag').values({
      serial: tag.serial ?? generateSerial(),
      secretkey: tag.secretkey ?? generateSecretKey(),
      fwversion: tag.fwversion ?? null,
      hwversion: tag.hwversion ?? null,
      description: tag.description ?? null
    }).onConflict(oc => oc.column('serial').doNothing()).returningAll().executeTakeFirst()
    if (created !== undefined || tag.serial !== undefined) return created
  }
  throw new Error('could not generate a unique serial')
}

export type TagChanges = Partial<Pick<Tag, 'serial' | 'secretkey' | 'fwversion' | 'hwversion' | 'description'>>

/** 'not_found', 'serial_taken', or the updated tag. */
export async function updateTag (db: Kysely<Database>, id: number, changes: TagChanges): Promise<Tag | 'not_found' | 'serial_taken'> {
  if (Object.keys(changes).length === 0) return (await findTagById(db, id)) ?? 'not_found'
  try {
    return (await db.updateTable('tag').set(changes).where('id', '=', id).returningAll().executeTakeFirst()) ?? 'not_found'
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return 'serial_taken'
    throw err
  }
}

export async function deleteTag (db: Kysely<Database>, id: number): Promise<boolean> {
  return (await db.deleteFrom('tag').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n
}

export async function listTags (db: Kysely<Database>, offset: number, limit: number): Promise<{ items: Tag[], total: number }> {
  const [items, total] = await Promise.all([
    db.selectFrom('tag').selectAll().orderBy('timeregistered', 'desc').orderBy('id', 'desc').offset(offset).limit(limit).execute(),
    db.selectFrom('tag').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  ])
  return { items, total: total.n }
}

/**
 * Takes the tag's row lock for the rest of the transaction. Storing a capture (store_capture),
 * deleting one and adding a location all hold it, so they happen one at a time per tag and each
 * sees what the one before committed.
 */
export async function lockTag (trx: Transaction<Database>, tagId: number): Promise<void> {
  await sql`SELECT id FROM tag WHERE id = ${tagId} FOR NO KEY UPDATE`.execute(trx)
}
