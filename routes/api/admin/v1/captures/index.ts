import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { deleteCapture, findCapture, listCaptures } from '../../../../../db/captures.js'
import { detailed, Errors } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { Capture, errorResponses, Id, IdParams } from '../../../../schemas.js'
import { captureView } from '../../../../captures.js'

const captures: FastifyPluginAsyncTypebox = async app => {
  app.get('/captures', {
    schema: {
      tags: ['admin'],
      summary: 'All captures (or one tag\'s), newest first',
      security: bearer(app.scopes.adminRead),
      querystring: Type.Intersect([Page, Type.Object({ tag_id: Type.Optional(Id) })]),
      response: { 200: { ...Type.Array(Capture), headers: pageHeaders }, ...errorResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const { offset, limit, tag_id: tagId } = request.query
    const { items, total } = await listCaptures(app.db, tagId === undefined ? {} : { tagId }, offset, limit)
    setPageHeaders(request, reply, request.query, total)
    return items.map(captureView)
  })

  app.get('/capture/:id', {
    schema: {
      tags: ['admin'],
      summary: 'One capture',
      security: bearer(app.scopes.adminRead),
      params: IdParams,
      response: { 200: Capture, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => {
    const capture = await findCapture(app.db, request.params.id)
    if (capture === undefined) throw detailed(new Errors.notFound(`No capture with id ${request.params.id}`), { code: 'capture_not_found' })
    return captureView(capture)
  })

  app.delete('/capture/:id', {
    schema: {
      tags: ['admin'],
      summary: 'Delete a capture and its samples',
      security: bearer(app.scopes.adminWrite),
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    if (!await deleteCapture(app.db, request.params.id)) {
      throw detailed(new Errors.notFound(`No capture with id ${request.params.id}`), { code: 'capture_not_found' })
    }
    return await reply.code(204).send(null)
  })
}

export default captures
