import { Type } from 'typebox'
import { Errors } from '../plugins/errors.js'

/** `starttime`/`endtime` of the time-window routes (/samples, /locations). */
export const WindowQuery = Type.Object({
  starttime: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive; unbounded if absent' })),
  endtime: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive; unbounded if absent' }))
})

/** The window's bounds (null = unbounded); 400 when it ends before it starts. */
export function windowBounds (query: { starttime?: string, endtime?: string }): { start: Date | null, end: Date | null } {
  const start = instant(query.starttime, 'starttime')
  const end = instant(query.endtime, 'endtime')
  if (start !== null && end !== null && start > end) throw new Errors.badRequest('starttime is after endtime')
  return { start, end }
}

/** The format check admits what JavaScript has no instant for (a leap second: 23:59:60). */
function instant (value: string | undefined, name: string): Date | null {
  if (value === undefined) return null
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new Errors.badRequest(`${name} is not a time this API can use: ${JSON.stringify(value)}`)
  return date
}
