import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * The headers helmet would set on a response, computed once. helmet's headers are static
 * unless CSP nonces are used (we use none), so there is no need to run its middleware per
 * request — @fastify/helmet rebuilds that middleware on every request, which halved our
 * throughput (docs/performance.md).
 */
export function helmetHeaders (options: Readonly<HelmetOptions> = {}): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => { headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value) },
    removeHeader: (name: string) => { Reflect.deleteProperty(headers, name.toLowerCase()) },
    getHeader: (name: string) => headers[name.toLowerCase()]
  }
  let failure: unknown
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => { failure = err })
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure))
  return headers
}

/** helmet's security headers on every response. Swagger UI replaces the CSP on its own pages with one that admits its scripts. */
export default fp(async function securityHeaders (app: FastifyInstance, options: { helmet?: HelmetOptions }) {
  const headers = helmetHeaders(options.helmet)
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers)
    done()
  })
}, { name: 'security-headers', fastify: '5.x' })
