import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { deleteUserBySub, findUserBySub } from '../../../../../db/users.js'
import { claimsOf } from '../../../../../plugins/auth.js'
import { Errors } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { errorResponses, UserWithInfo } from '../../../../schemas.js'

const me: FastifyPluginAsyncTypebox = async app => {
  app.get('/me', {
    schema: {
      tags: ['consumer'],
      summary: 'The caller\'s user record, with their profile from the identity provider',
      security: bearer(app.scopes.readUser),
      response: { 200: UserWithInfo, ...errorResponses(401, 403, 404, 502, 503) }
    }
  }, async request => {
    const claims = claimsOf(request)
    const user = await findUserBySub(app.db, claims.sub)
    if (user === undefined) throw new Errors.userNotRegistered()
    return { ...user, userinfo: await app.idp.userinfo(claims.token, claims.sub) }
  })

  app.delete('/me', {
    schema: {
      tags: ['consumer'],
      summary: 'Delete the caller\'s user record: their tag views go, their captures stay (unlinked)',
      security: bearer(app.scopes.writeUser),
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(401, 403, 404) }
    }
  }, async (request, reply) => {
    if (!await deleteUserBySub(app.db, claimsOf(request).sub)) throw new Errors.userNotRegistered()
    return await reply.code(204).send(null)
  })
}

export default me
