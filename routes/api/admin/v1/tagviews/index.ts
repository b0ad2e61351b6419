import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { deleteTagView, findTagView, listTagViews } from '../../../../../db/tagviews.js'
import { detailed, Errors } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { AdminTagView, errorResponses, Id, IdParams } from '../../../../schemas.js'

const tagviews: FastifyPluginAsyncTypebox = async app => {
  const notFound = (id: number): Error => detailed(new Errors.notFound(`No tag view with id ${id}`), { code: 'tagview_not_found' })

  app.get('/tagviews', {
    schema: {
      tags: ['admin'],
      summary: 'All tag views (or one tag\'s), newest first',
      security: bearer(app.scopes.adminRead),
      querystring: Type.Intersect([Page, Type.Object({ tag_id: Type.Optional(Id) })]),
      response: { 200: { ...Type.Array(AdminTagView), headers: pageHeaders }, ...errorResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const { offset, limit, tag_id: tagId } = request.query
    const { items, total } = await listTagViews(app.db, tagId === undefined ? {} : { tagId }, offset, limit)
    setPageHeaders(request, reply, request.query, total)
    return items
  })

  app.get('/tagview/:id', {
    schema: { tags: ['admin'], summary: 'One tag view', security: bearer(app.scopes.adminRead), params: IdParams, response: { 200: AdminTagView, ...errorResponses(400, 401, 403, 404) } }
  }, async request => {
    const view = await findTagView(app.db, request.params.id)
    if (view === undefined) throw notFound(request.params.id)
    return view
  })

  app.delete('/tagview/:id', {
    schema: {
      tags: ['admin'],
      summary: 'Delete a tag view',
      security: bearer(app.scopes.adminWrite),
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    if (!await deleteTagView(app.db, request.params.id)) throw notFound(request.params.id)
    return await reply.code(204).send(null)
  })
}

export default tagviews
