import { sql, type Kysely, type Transaction } from 'kysely'
import type { DecodedCapture } from '../codec/index.js'
import type { Capture, CaptureStatus, Database, Tag } from './schema.js'

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

export type InsertResult = { created: true, capture: StoredCapture } | { created: false, existingId: number }

/**
 * Runs `work` in one transaction that holds the row lock of the tag with this serial (undefined:
 * no such tag), so the captures of one tag are stored one at a time and "is there an earlier
 * copy?" has one answer. The lookup and the lock are one statement: it must run before the
 * statement that stores, which then takes its snapshot after the lock.
 */
export async function withLockedTag<T> (db: Kysely<Database>, serial: string, work: (trx: Transaction<Database>, tag: Tag | undefined) => Promise<T>): Promise<T> {
  return await db.transaction().execute(async trx => {
    const { rows } = await sql<Tag>`SELECT * FROM tag WHERE serial = ${serial} FOR NO KEY UPDATE`.execute(trx)
    return await work(trx, rows[0])
  })
}

/**
 * Stores a decoded capture with its status and samples, in the transaction of `withLockedTag`.
 * The samples are marked canonical where no earlier capture holds a copy, and earlier-scanned
 * captures take over from later ones (their canonical copies are demoted, and any location moves
 * along). A capture whose hash the tag already has is a replay: nothing is written and the first
 * capture's id returned.
 */
export async function insertCapture (
  trx: Transaction<Database>,
  input: { tagId: number, tagSerial: string, userId: number | null, scanTime: Date, decoded: DecodedCapture }
): Promise<InsertResult> {
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
  const resets = d.status.resetsAllTime
  const rc = d.status.resetCause

  const result = await sql<Capture & { status: CaptureStatus }>`
    WITH cap AS (
      INSERT INTO capture (tag_id, user_id, timestamp, batvoltagemv, loopcount, cursorpos, encoderversion, format,
                           timeintmins, elapsedmins, md5, nsamples)
      VALUES (${tagId}, ${input.userId}, ${scanTime}, ${d.status.batteryMv}, ${d.status.loopCount}, ${d.endMarkerPos},
              ${d.encoderMajorVersion}, ${d.formatCode}, ${d.intervalMins}, ${d.elapsedMins}, ${d.hash}, ${n})
      ON CONFLICT ON CONSTRAINT capture_tag_hash_unique DO NOTHING
      RETURNING *
    ), st AS (
      INSERT INTO capture_status (parent_capture, resetsalltime, brownout, clockfail, lpm5wakeup, misc, supervisor, watchdog, scantimeout)
      SELECT id, ${resets}, ${rc.brownout}, ${rc.clockFail}, ${rc.lpm5Wakeup}, ${rc.misc}, ${rc.supervisor}, ${rc.watchdog}, ${rc.scanTimeout}
      FROM cap
      RETURNING *
    ), incoming AS (
      SELECT * FROM unnest(${timestamps}::float8[], ${temps}::float8[], ${rhs}::float8[], ${rawTemps}::int2[],
                           ${rawRhs}::int2[], ${seqs}::int4[]) WITH ORDINALITY AS i(timestamp, temp, rh, rawtemp, rawrh, seq, ord)
    ), existing AS (
      -- canonical copies the tag already has of these samples (a range of its stream: the
      -- bounds keep this index scan to the capture's span, whatever the tag's history), and
      -- whether their capture was scanned later than this one (rare: a phone that was offline)
      SELECT s.id, s.seq, s.rawtemp, s.rawrh,
             s.capture_id IN (SELECT id FROM capture WHERE tag_id = ${tagId} AND timestamp > ${scanTime}) AS later
      FROM incoming i
      JOIN capture_sample s ON s.tag_id = ${tagId} AND s.canonical AND s.resetsalltime = ${resets}
                           AND s.seq BETWEEN ${seqMin} AND ${seqMax}
                           AND s.seq = i.seq AND s.rawtemp = i.rawtemp AND s.rawrh IS NOT DISTINCT FROM i.rawrh
      WHERE EXISTS (SELECT 1 FROM cap)
    ), earlier AS (
      SELECT DISTINCT seq, rawtemp, rawrh FROM existing WHERE NOT later
    ), demoted AS (
      UPDATE capture_sample s SET canonical = false FROM existing e WHERE s.id = e.id AND e.later
      RETURNING s.id, s.seq, s.rawtemp, s.rawrh
    ), inserted AS (
      INSERT INTO capture_sample (capture_id, tag_id, timestamp, temp, rh, rawtemp, rawrh, resetsalltime, seq, canonical)
      SELECT cap.id, ${tagId}, to_timestamp(i.timestamp / 1000), i.temp, i.rh, i.rawtemp, i.rawrh, ${resets}, i.seq,
             e.seq IS NULL -- canonical unless an earlier capture holds this sample
      FROM cap CROSS JOIN incoming i
      LEFT JOIN earlier e ON e.seq = i.seq AND e.rawtemp = i.rawtemp AND e.rawrh IS NOT DISTINCT FROM i.rawrh
      ORDER BY i.ord
      RETURNING id, seq, rawtemp, rawrh, canonical
    ), moved AS (
      UPDATE location l SET capturesample_id = n.id
      FROM demoted d JOIN inserted n ON n.canonical AND n.seq = d.seq AND n.rawtemp = d.rawtemp AND n.rawrh IS NOT DISTINCT FROM d.rawrh
      WHERE l.capturesample_id = d.id
      RETURNING l.id
    )
    -- every data-modifying CTE runs to completion whether or not it is read here
    SELECT cap.*, to_jsonb(st.*) AS status FROM cap, st`.execute(trx)
  const row = result.rows[0]
  if (row === undefined) {
    const existing = await trx.selectFrom('capture').select('id').where('tag_id', '=', tagId).where('md5', '=', d.hash).executeTakeFirstOrThrow()
    return { created: false, existingId: existing.id }
  }
  return { created: true, capture: { ...row, tagserial: input.tagSerial } }
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

export interface SampleRow {
  id: number
  capture_id: number
  timestamp: Date
  temp: number
  rh: number | null
  location: { id: number, capturesample_id: number, timestamp: Date, description: string } | null
}

interface FlatSampleRow extends Omit<SampleRow, 'location'> {
  location_id: number | null
  location_sample: number | null
  location_timestamp: Date | null
  location_description: string | null
}

export function withLocation ({ location_id: id, location_sample: sample, location_timestamp: timestamp, location_description: description, ...row }: FlatSampleRow): SampleRow {
  return { ...row, location: id === null ? null : { id, capturesample_id: sample!, timestamp: timestamp!, description: description! } }
}

export const LOCATION_COLUMNS = sql`l.id AS location_id, l.capturesample_id AS location_sample, l.timestamp AS location_timestamp, l.description AS location_description`

/**
 * A capture's own samples, newest first, each with the location of its physical sample (which
 * hangs on the canonical copy), and the capture's sample count; undefined if there is no such
 * capture. One statement: a tag has few locations, so they are gathered first (through
 * `location_tag`) and matched to the page's copies by stream position, instead of looking up
 * the canonical copy of every sample.
 */
export async function listCaptureSamples (db: Kysely<Database>, captureId: number, offset: number, limit: number): Promise<{ items: SampleRow[], total: number } | undefined> {
  const { rows } = await sql<FlatSampleRow & { nsamples: number }>`
    SELECT c.nsamples, s.id, s.capture_id, s.timestamp, s.temp, s.rh, ${LOCATION_COLUMNS}
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
  const items = first.id === null ? [] : rows.map(({ nsamples: _, ...row }) => withLocation(row))
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
    await sql`SELECT id FROM tag WHERE id = ${capture.tag_id} FOR NO KEY UPDATE`.execute(trx)
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
