import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CsvRow } from '../db/samples.js'

/**
 * The client prefers CSV (`Accept: text/csv`, the frontend's downloads) to JSON, by the Accept
 * header's own rules (q-values, wildcards); JSON otherwise. The answer depends on Accept, so
 * caches are told (`Vary`).
 */
export function wantsCsv (request: FastifyRequest, reply: FastifyReply): boolean {
  const vary = reply.getHeader('vary')
  void reply.header('vary', vary === undefined ? 'Accept' : `${String(vary)}, Accept`)
  return request.accepts().type(['application/json', 'text/csv']) === 'text/csv'
}

/** JSON numbers and ISO timestamps, so the CSV parses back to the JSON's values. */
function line (row: CsvRow): string {
  return `${row.timestamp.toISOString()},${row.temp},${row.rh ?? ''}\n`
}

/**
 * Streams `timestamp,temp,rh` batch by batch: the whole result is never held in memory. The
 * first batch is read before anything is sent, so a query that fails answers as an error, not
 * as a 200 with an empty file.
 */
export async function sendCsv (reply: FastifyReply, batches: AsyncIterable<CsvRow[]>, filename: string): Promise<FastifyReply> {
  const iterator = batches[Symbol.asyncIterator]()
  const first = await iterator.next()
  async function * lines (): AsyncGenerator<string> {
    yield 'timestamp,temp,rh\n'
    for (let batch = first; batch.done !== true; batch = await iterator.next()) yield batch.value.map(line).join('')
  }
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(lines()))
}

/** OpenAPI description of a 200 that is JSON or, on request, CSV. */
export function jsonOrCsv<S extends object> (json: S, headers: object): object {
  return {
    description: 'JSON, or CSV (`timestamp,temp,rh`) with `Accept: text/csv`',
    headers,
    content: {
      'application/json': { schema: json },
      'text/csv': { schema: { type: 'string', description: 'header line `timestamp,temp,rh`, then one sample per line, newest first; rh empty for temperature-only tags' } }
    }
  }
}
