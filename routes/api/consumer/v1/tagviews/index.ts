import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { createTagView, deleteTagView, findTagView, listTagViews } from '../../../../../db/tagviews.js'
import { findTagBySerial } from '../../../../../db/tags.js'
import { findUserBySub } from '../../../../../db/users.js'
import type { AppUser } from '../../../../../db/schema.js'
import { claimsOf } from '../../../../../plugins/auth.js'
import { detailed, Errors, tagNotFound } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { errorResponses, IdParams, Serial, TagView } from '../../../../schemas.js'

const tagviews: FastifyPluginAsyncTypebox = async app => {
  async function caller (request: FastifyRequest): Promise<AppUser> {
    const user = await findUserBySub(app.db, claimsOf(request).sub)
    if (user === undefined) throw new Errors.userNotRegistered()
    return user
  }
  const notFound = (id: number): Error => detailed(new Errors.notFound(`No tag view with id ${id}`), { code: 'tagview_not_found' })

  app.post('/me/tagviews', {
    schema: {
      tags: ['consumer'],
      summary: 'Record that the caller looked at a tag',
      security: bearer(app.scopes.writeUser),
      body: Type.Object({ tagserial: Serial }, { additionalProperties: false }),
      response: { 201: TagView, ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    const user = await caller(request)
    const tag = await findTagBySerial(app.db, request.body.tagserial)
    if (tag === undefined) throw tagNotFound(request.body.tagserial)
    return await reply.code(201).send(await createTagView(app.db, user.id, tag.id))
  })

  app.get('/me/tagviews', {
    schema: {
      tags: ['consumer'],
      summary: 'The caller\'s tag views, newest first; distinctOnTag=true keeps the newest per tag',
      security: bearer(app.scopes.readUser),
      querystring: Type.Intersect([Page, Type.Object({ distinctOnTag: Type.Boolean({ default: false }) })]),
      response: { 200: { ...Type.Array(TagView), headers: pageHeaders }, ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    const user = await caller(request)
    const { offset, limit, distinctOnTag } = request.query
    const { items, total } = await listTagViews(app.db, { userId: user.id, distinctOnTag }, offset, limit)
    setPageHeaders(request, reply, request.query, total)
    return items
  })

  app.get('/me/tagviews/:id', {
    schema: {
      tags: ['consumer'],
      summary: 'One of the caller\'s tag views (another user\'s is 404)',
      security: bearer(app.scopes.readUser),
      params: IdParams,
      response: { 200: TagView, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => {
    const user = await caller(request)
    const view = await findTagView(app.db, request.params.id)
    if (view === undefined || view.user_id !== user.id) throw notFound(request.params.id)
    return view
  })

  app.delete('/me/tagviews/:id', {
    schema: {
      tags: ['consumer'],
      summary: 'Delete one of the caller\'s tag views',
      security: bearer(app.scopes.writeUser),
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    const user = await caller(request)
    if (!await deleteTagView(app.db, request.params.id, user.id)) throw notFound(request.params.id)
    return await reply.code(204).send(null)
  })
}

export default tagviews
