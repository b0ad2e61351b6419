import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { deleteUserById, findUserById, listUsers } from '../../../../../db/users.js'
import { detailed, Errors } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { errorResponses, IdParams, User } from '../../../../schemas.js'

const users: FastifyPluginAsyncTypebox = async app => {
  const notFound = (id: number): Error => detailed(new Errors.notFound(`No user with id ${id}`), { code: 'user_not_found' })

  app.get('/users', {
    schema: {
      tags: ['admin'],
      summary: 'Registered users, newest first (only their IdP subject is stored)',
      security: bearer(app.scopes.adminRead),
      querystring: Page,
      response: { 200: { ...Type.Array(User), headers: pageHeaders }, ...errorResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const { items, total } = await listUsers(app.db, request.query.offset, request.query.limit)
    setPageHeaders(request, reply, request.query, total)
    return items
  })

  app.get('/user/:id', {
    schema: { tags: ['admin'], summary: 'One user', security: bearer(app.scopes.adminRead), params: IdParams, response: { 200: User, ...errorResponses(400, 401, 403, 404) } }
  }, async request => {
    const user = await findUserById(app.db, request.params.id)
    if (user === undefined) throw notFound(request.params.id)
    return user
  })

  app.delete('/user/:id', {
    schema: {
      tags: ['admin'],
      summary: 'Delete a user: their tag views go, their captures stay (unlinked)',
      security: bearer(app.scopes.adminWrite),
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    if (!await deleteUserById(app.db, request.params.id)) throw notFound(request.params.id)
    return await reply.code(204).send(null)
  })
}

export default users
