import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createUser } from '../../../../../db/users.js'
import { claimsOf } from '../../../../../plugins/auth.js'
import { Errors } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { errorResponses, UserWithInfo } from '../../../../schemas.js'

const users: FastifyPluginAsyncTypebox = async app => {
  app.post('/users', {
    schema: {
      tags: ['consumer'],
      summary: 'Register the caller (identified by the token\'s sub)',
      security: bearer(app.scopes.writeUser),
      response: { 201: UserWithInfo, ...errorResponses(401, 403, 409, 502, 503) }
    }
  }, async (request, reply) => {
    const claims = claimsOf(request)
    // userinfo first: if the IdP fails, nothing has been written
    const userinfo = await app.idp.userinfo(claims.token, claims.sub)
    const user = await createUser(app.db, claims.sub)
    if (user === undefined) throw new Errors.userExists()
    return await reply.code(201).send({ ...user, userinfo })
  })
}

export default users
