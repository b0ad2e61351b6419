import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'

export const DEFAULT_LIMIT = 25
export const MAX_LIMIT = 100

/** `offset`/`limit` of every list (SPEC §5); out of range → 400 from validation. */
export const Page = Type.Object({
  offset: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0, description: 'items to skip' }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `items to return (1–${MAX_LIMIT})` })
})
export type PageT = Static<typeof Page>

export const pageHeaders = {
  Link: { type: 'string', description: 'RFC 8288 links to the first, previous, next and last pages' },
  'X-Total-Count': { type: 'integer', description: 'number of items in the whole list' }
} as const

/**
 * Sets `X-Total-Count` and a `Link` header (first/prev/next/last) built from the request's own
 * URL, so a client can page without knowing the rules.
 */
export function setPageHeaders (request: FastifyRequest, reply: FastifyReply, page: PageT, total: number): void {
  const url = new URL(request.url, 'http://placeholder')
  const link = (rel: string, offset: number): string => {
    url.searchParams.set('offset', String(offset))
    url.searchParams.set('limit', String(page.limit))
    return `<${url.pathname}${url.search}>; rel="${rel}"`
  }
  const last = total === 0 ? 0 : Math.floor((total - 1) / page.limit) * page.limit
  const links = [link('first', 0)]
  if (page.offset > 0) links.push(link('prev', Math.max(0, Math.min(page.offset - page.limit, last))))
  if (page.offset + page.limit < total) links.push(link('next', page.offset + page.limit))
  links.push(link('last', last))
  void reply.header('link', links.join(', ')).header('x-total-count', total)
}
