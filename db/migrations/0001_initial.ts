import { sql, type Kysely } from 'kysely'

// The whole data model of SPEC §4. Written in SQL because the interesting parts (partial and
// expression indexes, cascade rules) read better that way than through a builder.
export async function up (db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tag (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      serial varchar(8) NOT NULL UNIQUE CHECK (length(serial) = 8),
      secretkey varchar(16) NOT NULL CHECK (length(secretkey) = 16),
      fwversion varchar(50),
      hwversion varchar(50),
      description varchar(280),
      timeregistered timestamptz NOT NULL DEFAULT now()
    )`.execute(db)

  await sql`
    CREATE TABLE app_user (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      oauth_id varchar(255) NOT NULL UNIQUE,
      timeregistered timestamptz NOT NULL DEFAULT now()
    )`.execute(db)

  await sql`
    CREATE TABLE capture (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tag_id integer NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
      user_id integer REFERENCES app_user (id) ON DELETE SET NULL,
      timestamp timestamptz NOT NULL,
      batvoltagemv integer,
      loopcount integer NOT NULL,
      cursorpos integer NOT NULL,
      encoderversion integer NOT NULL,
      format integer NOT NULL,
      timeintmins integer NOT NULL,
      elapsedmins integer NOT NULL,
      md5 char(14) NOT NULL,
      nsamples integer NOT NULL,
      -- a replayed (or unchanged) URL carries the same hash: stored once, whichever instance races
      CONSTRAINT capture_tag_hash_unique UNIQUE (tag_id, md5)
    )`.execute(db)
  await sql`CREATE INDEX capture_tag_time ON capture (tag_id, timestamp DESC, id DESC)`.execute(db)
  await sql`CREATE INDEX capture_user_time ON capture (user_id, timestamp DESC, id DESC) WHERE user_id IS NOT NULL`.execute(db)
  await sql`CREATE INDEX capture_time ON capture (timestamp DESC, id DESC)`.execute(db)

  await sql`
    CREATE TABLE capture_status (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      parent_capture integer NOT NULL UNIQUE REFERENCES capture (id) ON DELETE CASCADE,
      resetsalltime integer NOT NULL,
      brownout boolean NOT NULL,
      clockfail boolean NOT NULL,
      lpm5wakeup boolean NOT NULL,
      misc boolean NOT NULL,
      supervisor boolean NOT NULL,
      watchdog boolean NOT NULL,
      scantimeout boolean NOT NULL
    )`.execute(db)

  await sql`
    CREATE TABLE capture_sample (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- the capture's samples go with it (trigger below); only store_capture() writes samples,
      -- with the id of the capture it has just inserted, so no per-row key check is needed
      capture_id integer NOT NULL,
      -- the capture's tag, copied so that one tag's samples are indexed without a join
      tag_id integer NOT NULL,
      timestamp timestamptz NOT NULL,
      temp double precision NOT NULL,
      rh double precision,
      rawtemp smallint NOT NULL,
      rawrh smallint,
      resetsalltime integer NOT NULL,
      seq integer NOT NULL,
      canonical boolean NOT NULL
    )`.execute(db)
  await sql`CREATE INDEX capture_sample_capture ON capture_sample (capture_id, id)`.execute(db)
  // What ON DELETE CASCADE would do, once per statement instead of a foreign-key check per
  // inserted sample (a fifth of the cost of storing a capture: docs/performance.md). Deleting a
  // tag deletes its captures, and so their samples, through this too.
  await sql`
    CREATE FUNCTION delete_capture_samples () RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM capture_sample s USING gone g WHERE s.capture_id = g.id;
      RETURN NULL;
    END
    $$`.execute(db)
  await sql`
    CREATE TRIGGER capture_samples_go_with_it AFTER DELETE ON capture
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION delete_capture_samples()`.execute(db)
  // One tag's de-duplicated time window is a range scan of this index, whatever the tag's history.
  // It carries what /samples returns, so the window is read from a few contiguous index pages
  // instead of one heap page per sample (copies of a tag's samples lie all over the table).
  await sql`
    CREATE INDEX capture_sample_tag_window ON capture_sample (tag_id, timestamp DESC, id DESC)
    INCLUDE (capture_id, temp, rh) WHERE canonical`.execute(db)
  // A physical sample is its place in the tag's stream plus its readings; one copy is canonical.
  // Not a unique index: storing a capture demotes and inserts canonical copies in one statement,
  // in no guaranteed order; a per-tag row lock keeps "one canonical copy" true instead.
  await sql`
    CREATE INDEX capture_sample_physical ON capture_sample (tag_id, resetsalltime, seq)
    WHERE canonical`.execute(db)

  await sql`
    CREATE TABLE location (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      capturesample_id bigint NOT NULL UNIQUE REFERENCES capture_sample (id) ON DELETE CASCADE,
      -- the sample's tag, which never changes: a tag's few locations are found without its samples
      tag_id integer NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
      timestamp timestamptz NOT NULL DEFAULT now(),
      description varchar(50) NOT NULL
    )`.execute(db)
  await sql`CREATE INDEX location_tag ON location (tag_id)`.execute(db)

  // Stores one decoded capture: its row, its status and its samples, in one statement (so one
  // transaction and one round trip). It first takes the tag's row lock, so captures of one tag are
  // stored one at a time; the statement after it runs on a fresh snapshot (plpgsql, READ
  // COMMITTED), so it sees every capture committed before the lock was granted. Samples are
  // canonical where no earlier-scanned capture holds a copy; copies from later-scanned captures
  // (a phone that was offline) are demoted, and their locations move to the new copies. Returns
  // {capture, status}, {existing_id} for a hash the tag already has (a replay), or NULL when the
  // tag is gone.
  await sql`
    CREATE FUNCTION store_capture (
      p_tag integer, p_user integer, p_scan timestamptz, p_batvoltagemv integer, p_loopcount integer,
      p_cursorpos integer, p_encoderversion integer, p_format integer, p_timeintmins integer,
      p_elapsedmins integer, p_md5 text, p_resetsalltime integer, p_brownout boolean, p_clockfail boolean,
      p_lpm5wakeup boolean, p_misc boolean, p_supervisor boolean, p_watchdog boolean, p_scantimeout boolean,
      p_timestamps float8[], p_temps float8[], p_rhs float8[], p_rawtemps int2[], p_rawrhs int2[],
      p_seqs int4[], p_seqmin integer, p_seqmax integer
    ) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
      stored jsonb;
    BEGIN
      PERFORM 1 FROM tag WHERE id = p_tag FOR NO KEY UPDATE;
      IF NOT FOUND THEN RETURN NULL; END IF;

      WITH cap AS (
        INSERT INTO capture (tag_id, user_id, timestamp, batvoltagemv, loopcount, cursorpos, encoderversion, format,
                             timeintmins, elapsedmins, md5, nsamples)
        VALUES (p_tag, p_user, p_scan, p_batvoltagemv, p_loopcount, p_cursorpos, p_encoderversion, p_format,
                p_timeintmins, p_elapsedmins, p_md5, cardinality(p_seqs))
        ON CONFLICT ON CONSTRAINT capture_tag_hash_unique DO NOTHING
        RETURNING *
      ), st AS (
        INSERT INTO capture_status (parent_capture, resetsalltime, brownout, clockfail, lpm5wakeup, misc, supervisor, watchdog, scantimeout)
        SELECT cap.id, p_resetsalltime, p_brownout, p_clockfail, p_lpm5wakeup, p_misc, p_supervisor, p_watchdog, p_scantimeout
        FROM cap
        RETURNING *
      ), incoming AS (
        SELECT * FROM unnest(p_timestamps, p_temps, p_rhs, p_rawtemps, p_rawrhs, p_seqs)
          WITH ORDINALITY AS i(ms, temp, rh, rawtemp, rawrh, seq, ord)
      ), existing AS (
        -- canonical copies the tag already has of these samples (a range of its stream: the bounds
        -- keep this index scan to the capture's span, whatever the tag's history), and whether
        -- their capture was scanned later than this one
        SELECT s.id, s.seq, s.rawtemp, s.rawrh,
               s.capture_id IN (SELECT c.id FROM capture c WHERE c.tag_id = p_tag AND c.timestamp > p_scan) AS later
        FROM incoming i
        JOIN capture_sample s ON s.tag_id = p_tag AND s.canonical AND s.resetsalltime = p_resetsalltime
                             AND s.seq BETWEEN p_seqmin AND p_seqmax
                             AND s.seq = i.seq AND s.rawtemp = i.rawtemp AND s.rawrh IS NOT DISTINCT FROM i.rawrh
        WHERE EXISTS (SELECT 1 FROM cap)
      ), earlier AS (
        SELECT DISTINCT e.seq, e.rawtemp, e.rawrh FROM existing e WHERE NOT e.later
      ), demoted AS (
        UPDATE capture_sample s SET canonical = false FROM existing e WHERE s.id = e.id AND e.later
        RETURNING s.id, s.seq, s.rawtemp, s.rawrh
      ), inserted AS (
        INSERT INTO capture_sample (capture_id, tag_id, timestamp, temp, rh, rawtemp, rawrh, resetsalltime, seq, canonical)
        SELECT cap.id, p_tag, to_timestamp(i.ms / 1000), i.temp, i.rh, i.rawtemp, i.rawrh, p_resetsalltime, i.seq,
               e.seq IS NULL -- canonical unless an earlier capture holds this sample
        FROM cap CROSS JOIN incoming i
        LEFT JOIN earlier e ON e.seq = i.seq AND e.rawtemp = i.rawtemp AND e.rawrh IS NOT DISTINCT FROM i.rawrh
        ORDER BY i.ord
        RETURNING capture_sample.id, capture_sample.seq, capture_sample.rawtemp, capture_sample.rawrh, capture_sample.canonical
      ), moved AS (
        UPDATE location l SET capturesample_id = n.id
        FROM demoted d JOIN inserted n ON n.canonical AND n.seq = d.seq AND n.rawtemp = d.rawtemp AND n.rawrh IS NOT DISTINCT FROM d.rawrh
        WHERE l.capturesample_id = d.id
        RETURNING l.id
      )
      -- every data-modifying CTE runs to completion whether or not it is read here
      SELECT jsonb_build_object('capture', to_jsonb(cap.*), 'status', to_jsonb(st.*)) INTO stored FROM cap, st;

      IF stored IS NULL THEN
        SELECT jsonb_build_object('existing_id', c.id) INTO stored FROM capture c WHERE c.tag_id = p_tag AND c.md5 = p_md5;
      END IF;
      RETURN stored;
    END
    $$`.execute(db)

  await sql`
    CREATE TABLE tag_view (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
      tag_id integer NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
      timestamp timestamptz NOT NULL DEFAULT now()
    )`.execute(db)
  await sql`CREATE INDEX tag_view_user_time ON tag_view (user_id, timestamp DESC, id DESC)`.execute(db)
  await sql`CREATE INDEX tag_view_tag ON tag_view (tag_id, timestamp DESC, id DESC)`.execute(db)
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS store_capture`.execute(db)
  await sql`DROP TRIGGER IF EXISTS capture_samples_go_with_it ON capture`.execute(db)
  await sql`DROP FUNCTION IF EXISTS delete_capture_samples`.execute(db)
  for (const table of ['tag_view', 'location', 'capture_sample', 'capture_status', 'capture', 'app_user', 'tag']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db)
  }
}
