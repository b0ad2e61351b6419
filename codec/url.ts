import { MalformedInputError, type MalformedParam } from './errors.js'

/** The query values of a tag URL, named as the decoder's arguments. */
export interface TagUrlQuery {
  /** `s`, carried along undecoded; null if the URL has none. */
  serial: string | null
  statb64: string
  timeintb64: string
  circb64: string
  vfmtb64: string
}

const REQUIRED: readonly (readonly [MalformedParam, Exclude<keyof TagUrlQuery, 'serial'>])[] = [
  ['t', 'timeintb64'],
  ['v', 'vfmtb64'],
  ['x', 'statb64'],
  ['q', 'circb64'],
]

/**
 * Splits a tag URL into its query values. Values are percent-decoded but `+` stays `+` (the tag
 * never writes either); the first occurrence of a key wins; an empty `q=` (tag error) is kept.
 * @throws {MalformedInputError} naming the first of t, v, x, q that is missing or undecodable
 */
export function parseTagUrl(url: string): TagUrlQuery {
  const queryStart = url.indexOf('?')
  const fragment = url.indexOf('#', queryStart + 1)
  const query = queryStart < 0 ? '' : url.slice(queryStart + 1, fragment < 0 ? undefined : fragment)
  const values = new Map<string, string>()
  const failed = new Set<string>()
  for (const part of query.split('&')) {
    const eq = part.indexOf('=')
    const key = eq < 0 ? part : part.slice(0, eq)
    if (values.has(key) || failed.has(key)) continue
    try {
      values.set(key, decodeURIComponent(eq < 0 ? '' : part.slice(eq + 1)))
    } catch {
      failed.add(key)
    }
  }
  const result: TagUrlQuery = { serial: values.get('s') ?? null, statb64: '', timeintb64: '', circb64: '', vfmtb64: '' }
  for (const [param, field] of REQUIRED) {
    if (failed.has(param)) throw new MalformedInputError(param, 'the URL value is not valid percent-encoding')
    const value = values.get(param)
    if (value === undefined) throw new MalformedInputError(param, 'missing from the URL')
    result[field] = value
  }
  return result
}
