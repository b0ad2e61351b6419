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
      capture_id integer NOT NULL REFERENCES capture (id) ON DELETE CASCADE,
      -- the capture's tag, copied so that one tag's samples are indexed without a join. No foreign
      -- key of its own: the capture's covers it (and its cascade), and a second check per row
      -- costs a fifth of the insert (docs/performance.md)
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
  // One tag's de-duplicated time window is a range scan of this index, whatever the tag's history.
  await sql`
    CREATE INDEX capture_sample_tag_window ON capture_sample (tag_id, timestamp DESC, id DESC)
    WHERE canonical`.execute(db)
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
  for (const table of ['tag_view', 'location', 'capture_sample', 'capture_status', 'capture', 'app_user', 'tag']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db)
  }
}
