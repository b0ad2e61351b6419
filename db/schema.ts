import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

type CreatedAt = ColumnType<Date, Date | string | undefined, never>

export interface TagTable {
  id: Generated<number>
  serial: string
  secretkey: string
  fwversion: string | null
  hwversion: string | null
  description: string | null
  timeregistered: CreatedAt
}

export interface AppUserTable {
  id: Generated<number>
  oauth_id: string
  timeregistered: CreatedAt
}

export interface CaptureTable {
  id: Generated<number>
  tag_id: number
  user_id: number | null
  /** scan time */
  timestamp: Date
  batvoltagemv: number | null
  loopcount: number
  /** position of the end marker '~' in q */
  cursorpos: number
  /** codec major version of the encoder */
  encoderversion: number
  /** circular buffer format code: 1 = temperature + RH, 2 = temperature only */
  format: number
  timeintmins: number
  elapsedmins: number
  /** hex of the truncated HMAC-MD5 from the URL; unique per tag (replay protection) */
  md5: string
  nsamples: number
}

export interface CaptureStatusTable {
  id: Generated<number>
  parent_capture: number
  resetsalltime: number
  brownout: boolean
  clockfail: boolean
  lpm5wakeup: boolean
  misc: boolean
  supervisor: boolean
  watchdog: boolean
  scantimeout: boolean
}

export interface CaptureSampleTable {
  id: Generated<number>
  capture_id: number
  tag_id: number
  timestamp: Date
  temp: number
  rh: number | null
  rawtemp: number
  rawrh: number | null
  /** the tag's resets-all-time counter when the sample was taken: its stream restarts at each reset */
  resetsalltime: number
  /** position of the sample in the tag's stream since that reset (0 = first reading) */
  seq: number
  /** true for the one copy of a physical sample that /samples returns (the earliest capture's) */
  canonical: boolean
}

export interface LocationTable {
  id: Generated<number>
  capturesample_id: number
  /** the tag of the sample (denormalised: it never changes) */
  tag_id: number
  timestamp: CreatedAt
  description: string
}

export interface TagViewTable {
  id: Generated<number>
  user_id: number
  tag_id: number
  timestamp: CreatedAt
}

export interface Database {
  tag: TagTable
  app_user: AppUserTable
  capture: CaptureTable
  capture_status: CaptureStatusTable
  capture_sample: CaptureSampleTable
  location: LocationTable
  tag_view: TagViewTable
}

export type Tag = Selectable<TagTable>
export type NewTag = Insertable<TagTable>
export type AppUser = Selectable<AppUserTable>
export type Capture = Selectable<CaptureTable>
export type CaptureStatus = Selectable<CaptureStatusTable>
export type CaptureSample = Selectable<CaptureSampleTable>
export type Location = Selectable<LocationTable>
export type TagView = Selectable<TagViewTable>
