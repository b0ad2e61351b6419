import { sql, type Kysely } from 'kysely'
import { SAMPLE_COLUMNS, withLocation, type FlatSampleRow, type SampleRow } from './captures.js'
import type { Database } from './schema.js'

export interface Window {
  tagId: number
  /** inclusive bounds; null = unbounded */
  start: Date | null
  end: Date | null
}

function windowWhere ({ tagId, start, end }: Window): ReturnType<typeof sql> {
  return sql`s.tag_id = ${tagId} AND s.canonical
    AND s.timestamp >= ${start ?? sql`'-infinity'::timestamptz`} AND s.timestamp <= ${end ?? sql`'infinity'::timestamptz`}`
}

/**
 * One tag's samples in a time window, each physical sample once (its canonical copy: the one
 * from the earliest capture), newest first. A range scan of the partial index
 * capture_sample_tag_window, whatever the size of the tag's history.
 */
export async function listWindow (db: Kysely<Database>, window: Window, offset: number, limit: number): Promise<{ items: SampleRow[], total: number }> {
  const where = windowWhere(window)
  const [items, total] = await Promise.all([
    sql<FlatSampleRow>`
      SELECT ${SAMPLE_COLUMNS}
      FROM capture_sample s LEFT JOIN location l ON l.capturesample_id = s.id
      WHERE ${where}
      ORDER BY s.timestamp DESC, s.id DESC OFFSET ${offset} LIMIT ${limit}`.execute(db),
    sql<{ n: number }>`SELECT count(*) AS n FROM capture_sample s WHERE ${where}`.execute(db)
  ])
  return { items: items.rows.map(withLocation), total: total.rows[0]?.n ?? 0 }
}

export interface CsvRow { id: number, timestamp: Date, temp: number, rh: number | null }

const BATCH = 2000

/** The whole window in batches (keyset pagination): memory stays flat however long the window. */
export async function * windowBatches (db: Kysely<Database>, window: Window): AsyncGenerator<CsvRow[]> {
  let after: { timestamp: Date, id: number } | null = null
  for (;;) {
    const cursor: ReturnType<typeof sql> = after === null ? sql`true` : sql`(s.timestamp, s.id) < (${after.timestamp}, ${after.id})`
    const { rows }: { rows: CsvRow[] } = await sql<CsvRow>`
      SELECT s.id, s.timestamp, s.temp, s.rh FROM capture_sample s
      WHERE ${windowWhere(window)} AND ${cursor}
      ORDER BY s.timestamp DESC, s.id DESC LIMIT ${BATCH}`.execute(db)
    if (rows.length > 0) yield rows
    if (rows.length < BATCH) return
    const last: CsvRow = rows[rows.length - 1]!
    after = { timestamp: last.timestamp, id: last.id }
  }
}

/** A capture's samples (at most 376), newest first — the order of the JSON listing. */
export async function * captureSampleBatches (db: Kysely<Database>, captureId: number): AsyncGenerator<CsvRow[]> {
  const { rows } = await sql<CsvRow>`
    SELECT s.id, s.timestamp, s.temp, s.rh FROM capture_sample s
    WHERE s.capture_id = ${captureId} ORDER BY s.timestamp DESC, s.id ASC`.execute(db)
  yield rows
}
