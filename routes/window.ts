import { Type } from 'typebox'
import { Errors } from '../plugins/errors.js'

/** `starttime`/`endtime` of the time-window routes (/samples, /locations). */
export const WindowQuery = Type.Object({
  starttime: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive; unbounded if absent' })),
  endtime: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive; unbounded if absent' }))
})

/** The window's bounds (null = unbounded); 400 when it ends before it starts. */
export function windowBounds (query: { starttime?: string, endtime?: string }): { start: Date | null, end: Date | null } {
  const start = query.starttime === undefined ? null : new Date(query.starttime)
  const end = query.endtime === undefined ? null : new Date(query.endtime)
  if (start !== null && end !== null && start > end) throw new Errors.badRequest('starttime is after endtime')
  return { start, end }
}
