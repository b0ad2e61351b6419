import type { Kysely } from 'kysely'
import type { AppUser, Database } from './schema.js'

export async function findUserBySub (db: Kysely<Database>, sub: string): Promise<AppUser | undefined> {
  return await db.selectFrom('app_user').selectAll().where('oauth_id', '=', sub).executeTakeFirst()
}

/** The new user, or undefined when one with this `sub` exists already. */
export async function createUser (db: Kysely<Database>, sub: string): Promise<AppUser | undefined> {
  return await db.insertInto('app_user').values({ oauth_id: sub })
    .onConflict(oc => oc.column('oauth_id').doNothing())
    .returningAll().executeTakeFirst()
}

export async function deleteUserBySub (db: Kysely<Database>, sub: string): Promise<boolean> {
  const result = await db.deleteFrom('app_user').where('oauth_id', '=', sub).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function findUserById (db: Kysely<Database>, id: number): Promise<AppUser | undefined> {
  return await db.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function deleteUserById (db: Kysely<Database>, id: number): Promise<boolean> {
  return (await db.deleteFrom('app_user').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n
}

export async function listUsers (db: Kysely<Database>, offset: number, limit: number): Promise<{ items: AppUser[], total: number }> {
  const [items, total] = await Promise.all([
    db.selectFrom('app_user').selectAll().orderBy('timeregistered', 'desc').orderBy('id', 'desc').offset(offset).limit(limit).execute(),
    db.selectFrom('app_user').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  ])
  return { items, total: total.n }
}
