import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sql } from 'kysely'
import { Type } from 'typebox'

const Status = Type.Object({ status: Type.String() })

// Not under /api: load balancers and orchestrators probe these without tokens.
const health: FastifyPluginAsyncTypebox = async app => {
  app.get('/health', {
    schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Status } }
  }, async () => ({ status: 'ok' }))

  app.get('/ready', {
    schema: {
      tags: ['operations'],
      summary: 'The database is reachable',
      response: { 200: Status, 503: Type.Object({ status: Type.String(), message: Type.String() }) }
    }
  }, async (_request, reply) => {
    try {
      await sql`SELECT 1`.execute(app.db)
      return { status: 'ready' }
    } catch {
      return await reply.code(503).send({ status: 'unavailable', message: 'database unreachable' })
    }
  })
}

export default health
