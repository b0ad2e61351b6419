import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { findTagBySerial } from '../../../../../db/tags.js'
import { detailed, Errors } from '../../../../../plugins/errors.js'
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
    if (tag === undefined) throw detailed(new Errors.notFound(`No tag with serial "${request.params.serial}"`), { code: 'tag_not_found' })
    return { serial: tag.serial, timeregistered: tag.timeregistered, description: tag.description }
  })
}

export default tags
