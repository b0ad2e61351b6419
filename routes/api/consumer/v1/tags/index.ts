import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { hasScanned } from '../../../../../db/locations.js'
import { findTagBySerial } from '../../../../../db/tags.js'
import { findUserBySub } from '../../../../../db/users.js'
import { claimsOf } from '../../../../../plugins/auth.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { tagNotFound } from '../../../../../plugins/errors.js'
import { errorResponses, PublicTag, Serial } from '../../../../schemas.js'

const tags: FastifyPluginAsyncTypebox = async app => {
  app.get('/tag/:serial', {
    schema: {
      tags: ['consumer'],
      summary: 'A tag\'s public face (never its secret key)',
      params: Type.Object({ serial: Serial }),
      response: { 200: PublicTag, ...errorResponses(400, 404) }
    }
  }, async request => {
    const tag = await findTagBySerial(app.db, request.params.serial)
    if (tag === undefined) throw tagNotFound(request.params.serial)
    return { serial: tag.serial, timeregistered: tag.timeregistered, description: tag.description }
  })

  app.get('/tag/:serial/scanned', {
    schema: {
      tags: ['consumer'],
      summary: 'Whether the caller has posted a capture of this tag (and so may annotate its samples)',
      security: bearer(app.scopes.readUser),
      params: Type.Object({ serial: Serial }),
      response: { 200: Type.Boolean(), ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => {
    const tag = await findTagBySerial(app.db, request.params.serial)
    if (tag === undefined) throw tagNotFound(request.params.serial)
    const user = await findUserBySub(app.db, claimsOf(request).sub)
    return user !== undefined && await hasScanned(app.db, user.id, tag.id)
  })
}

export default tags
