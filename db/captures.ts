import { sql, type Kysely } from 'kysely'
import { lockTag } from './tags.js'
import type { DecodedCapture } from '../codec/index.js'
import type { Capture, CaptureStatus, Database } from './schema.js'

/** Pairs the encoder writes before the cursor returns to demi 0 and `loopcount` increments. */
const PAIRS_PER_LOOP = 192
/** Characters of one demi (two pairs) in `q`, and the offset of `~` past the cursor demi. */
const DEMI_CHARS = 8
const BUFFER_CHARS = 768
const TILDE_OFFSET = 23

/**
 * How many pairs the tag has written since its last reset, from authenticated fields only:
 * the cursor demi c is where `~` sits ((8c + 23) mod 768), it holds one pair when npairs is odd
 * (a partial demi) and two otherwise, and each loop of the cursor is 192 pairs.
 */
export function pairsWritten (capture: Pick<DecodedCapture, 'endMarkerPos' | 'nPairs' | 'status'>): number {
  const cursorDemi = Math.floor((((capture.endMarkerPos - TILDE_OFFSET) % BUFFER_CHARS) + BUFFER_CHARS) % BUFFER_CHARS / DEMI_CHARS)
  return capture.status.loopCount * PAIRS_PER_LOOP + 2 * cursorDemi + (capture.nPairs % 2 === 1 ? 1 : 2)
}

/**
 * Each sample's place in the tag's stream since its last reset: the number of the pair that
 * holds it (0 = first pair written), and in format 2 which half of the pair. Copies of one
 * physical sample in different captures get the same place whatever the scan times were.
 */
export function streamPositions (capture: DecodedCapture): Int32Array {
  const written = pairsWritten(capture)
  const positions = new Int32Array(capture.samples.length)
  capture.samples.forEach((sample, i) => {
    const pairNumber = written - 1 - sample.pairIndex
    positions[i] = capture.formatCode === 1 ? pairNumber : 2 * pairNumber + sample.slot
  })
  return positions
}

export type StoredCapture = Capture & { tagserial: string, status: CaptureStatus }


/** An array literal of numbers (and NULLs): one join instead of pg's escaping of every element. */
function pgArray (values: ReadonlyArray<number | null>): string {
  return `{${values.map(v => v === null ? 'NULL' : String(v)).join(',')}}`
}

export type InsertResult = { created: true, capture: StoredCapture } | { created: false, existingId: number }

/**
 * Stores a decoded capture with its status and samples, all or nothing, in one call of the
 * database function `store_capture` (db/migrations: the tag's row lock, then one statement that
 * decides which copies are canonical). A capture whose hash the tag already has is a replay:
 * nothing is written and the first capture's id returned. Undefined: the tag is gone.
 */
export async function insertCapture (
  db: Kysely<Database>,
  input: { tagId: number, tagSerial: string, userId: number | null, scanTime: Date, decoded: DecodedCapture }
): Promise<InsertResult | undefined> {
  const { decoded: d, tagId, scanTime } = input
  const n = d.samples.length
  const timestamps = new Array<number>(n)
  const temps = new Array<number>(n)
  const rhs = new Array<number | null>(n)
  const rawTemps = new Array<number>(n)
  const rawRhs = new Array<number | null>(n)
  d.samples.forEach((s, i) => {
    timestamps[i] = s.timestampMs
    temps[i] = s.temp
    rhs[i] = s.rh
    rawTemps[i] = s.rawTemp
    rawRhs[i] = s.rawRh
  })
  const seqs = Array.from(streamPositions(d))
  const seqMin = n === 0 ? 0 : Math.min(...seqs)
  const seqMax = n === 0 ? -1 : Math.max(...seqs)
  const rc = d.status.resetCause

  const { rows } = await sql<{ stored: { capture: Omit<Capture, 'timestamp'> & { timestamp: string }, status: CaptureStatus } | { existing_id: number } | null }>`
    SELECT store_capture(${tagId}, ${input.userId}, ${scanTime}, ${d.status.batteryMv}, ${d.status.loopCount}, ${d.endMarkerPos},
      ${d.encoderMajorVersion}, ${d.formatCode}, ${d.intervalMins}, ${d.elapsedMins}, ${d.hash}, ${d.status.resetsAllTime},
      ${rc.brownout}, ${rc.clockFail}, ${rc.lpm5Wakeup}, ${rc.misc}, ${rc.supervisor}, ${rc.watchdog}, ${rc.scanTimeout},
      ${pgArray(timestamps)}::float8[], ${pgArray(temps)}::float8[], ${pgArray(rhs)}::float8[], ${pgArray(rawTemps)}::int2[],
      ${pgArray(rawRhs)}::int2[], ${pgArray(seqs)}::int4[],
      ${seqMin}, ${seqMax}) AS stored`.execute(db)
  const stored = rows[0]?.stored ?? null
  if (stored === null) return undefined
  if ('existing_id' in stored) return { created: false, existingId: stored.existing_id }
  const { capture, status } = stored
  return { created: true, capture: { ...capture, timestamp: new Date(capture.timestamp), status, tagserial: input.tagSerial } }
}

export interface CaptureFilter {
  tagId?: number
  userId?: number
  /** only the newest capture of each tag */
  distinctOnTag?: boolean
}

function capturesWhere (filter: CaptureFilter): ReturnType<typeof sql> {
  const conditions = [sql`true`]
  if (filter.tagId !== undefined) conditions.push(sql`c.tag_id = ${filter.tagId}`)
  if (filter.userId !== undefined) conditions.push(sql`c.user_id = ${filter.userId}`)
  return sql.join(conditions, sql` AND `)
}

const CAPTURE_COLUMNS = sql`c.*, t.serial AS tagserial, to_jsonb(st.*) AS status`

/** Captures, newest first (scan time, then id), with their tag's serial and their status. */
export async function listCaptures (db: Kysely<Database>, filter: CaptureFilter, offset: number, limit: number): Promise<{ items: StoredCapture[], total: number }> {
  const where = capturesWhere(filter)
  const chosen = filter.distinctOnTag === true
    ? sql`(SELECT DISTINCT ON (c.tag_id) c.* FROM capture c WHERE ${where} ORDER BY c.tag_id, c.timestamp DESC, c.id DESC)`
    : sql`(SELECT c.* FROM capture c WHERE ${where})`
  const [items, total] = await Promise.all([
    sql<StoredCapture>`
      SELECT ${CAPTURE_COLUMNS} FROM ${chosen} c
      JOIN tag t ON t.id = c.tag_id JOIN capture_status st ON st.parent_capture = c.id
      ORDER BY c.timestamp DESC, c.id DESC OFFSET ${offset} LIMIT ${limit}`.execute(db),
    sql<{ n: number }>`SELECT count(*) AS n FROM ${chosen} c`.execute(db)
  ])
  return { items: items.rows, total: total.rows[0]?.n ?? 0 }
}

export async function findCapture (db: Kysely<Database>, id: number): Promise<StoredCapture | undefined> {
  const result = await sql<StoredCapture>`
    SELECT ${CAPTURE_COLUMNS} FROM capture c
    JOIN tag t ON t.id = c.tag_id JOIN capture_status st ON st.parent_capture = c.id
    WHERE c.id = ${id}`.execute(db)
  return result.rows[0]
}

/** A sample as the API shows it; timestamps come from the database already in ISO 8601 UTC. */
export interface SampleRow {
  id: number
  capture_id: number
  timestamp: string
  temp: number
  rh: number | null
  location: { id: number, capturesample_id: number, timestamp: string, description: string } | null
}

export interface FlatSampleRow extends Omit<SampleRow, 'location'> {
  location_id: number | null
  location_sample: number | null
  location_timestamp: string | null
  location_description: string | null
}

export function withLocation (row: FlatSampleRow): SampleRow {
  // built field by field: this runs for every sample listed, and spreads cost more
  return {
    id: row.id,
    capture_id: row.capture_id,
    timestamp: row.timestamp,
    temp: row.temp,
    rh: row.rh,
    location: row.location_id === null
      ? null
      : { id: row.location_id, capturesample_id: row.location_sample!, timestamp: row.location_timestamp!, description: row.location_description! }
  }
}

/**
 * A timestamp as `Date#toISOString` writes it, made by the database: a listing of samples then
 * needs no date parsing and formatting per row in Node (a fifth of its time).
 */
export function isoTimestamp (column: ReturnType<typeof sql.ref>): ReturnType<typeof sql> {
  return sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

export const SAMPLE_COLUMNS = sql`s.id, s.capture_id, ${isoTimestamp(sql.ref('s.timestamp'))} AS timestamp, s.temp, s.rh,
  l.id AS location_id, l.capturesample_id AS location_sample, ${isoTimestamp(sql.ref('l.timestamp'))} AS location_timestamp,
  l.description AS location_description`

/**
 * A capture's own samples, newest first, each with the location of its physical sample (which
 * hangs on the canonical copy), and the capture's sample count; undefined if there is no such
 * capture. One statement: a tag has few locations, so they are gathered first (through
 * `location_tag`) and matched to the page's copies by stream position, instead of looking up
 * the canonical copy of every sample.
 */
export async function listCaptureSamples (db: Kysely<Database>, captureId: number, offset: number, limit: number): Promise<{ items: SampleRow[], total: number } | undefined> {
  const { rows } = await sql<FlatSampleRow & { nsamples: number }>`
    SELECT c.nsamples, ${SAMPLE_COLUMNS}
    FROM capture c
    LEFT JOIN LATERAL (
      SELECT * FROM capture_sample s WHERE s.capture_id = c.id
      ORDER BY s.timestamp DESC, s.id ASC OFFSET ${offset} LIMIT ${limit}
    ) s ON true
    LEFT JOIN LATERAL (
      SELECT l.*, canon.resetsalltime, canon.seq, canon.rawtemp, canon.rawrh
      FROM location l JOIN capture_sample canon ON canon.id = l.capturesample_id
      WHERE l.tag_id = c.tag_id
    ) l ON l.resetsalltime = s.resetsalltime AND l.seq = s.seq AND l.rawtemp = s.rawtemp AND l.rawrh IS NOT DISTINCT FROM s.rawrh
    WHERE c.id = ${captureId}
    ORDER BY s.timestamp DESC, s.id ASC`.execute(db)
  const first = rows[0]
  if (first === undefined) return undefined
  const items = first.id === null ? [] : rows.map(withLocation)
  return { items, total: first.nsamples }
}

/**
 * Deletes a capture with its samples. Where one of its samples was the canonical copy, the copy
 * from the next-earliest capture takes over, with the location if there was one.
 */
export async function deleteCapture (db: Kysely<Database>, id: number): Promise<boolean> {
  return await db.transaction().execute(async trx => {
    const capture = await trx.selectFrom('capture').select(['tag_id', 'timestamp']).where('id', '=', id).executeTakeFirst()
    if (capture === undefined) return false
    await lockTag(trx, capture.tag_id)
    await sql`
      WITH doomed AS (
        SELECT id, resetsalltime, seq, rawtemp, rawrh FROM capture_sample WHERE capture_id = ${id} AND canonical
      ), heirs AS (
        -- other copies can only be in captures scanned at the same time or later
        SELECT DISTINCT ON (d.id) d.id AS old_id, h.id AS new_id
        FROM doomed d
        JOIN capture c ON c.tag_id = ${capture.tag_id} AND c.timestamp >= ${capture.timestamp} AND c.id <> ${id}
        JOIN capture_sample h ON h.capture_id = c.id AND h.resetsalltime = d.resetsalltime AND h.seq = d.seq
                             AND h.rawtemp = d.rawtemp AND h.rawrh IS NOT DISTINCT FROM d.rawrh
        ORDER BY d.id, c.timestamp, c.id
      ), promoted AS (
        UPDATE capture_sample s SET canonical = true FROM heirs WHERE s.id = heirs.new_id RETURNING s.id
      )
      UPDATE location l SET capturesample_id = heirs.new_id FROM heirs WHERE l.capturesample_id = heirs.old_id`.execute(trx)
    await trx.deleteFrom('capture').where('id', '=', id).execute()
    return true
  })
}
