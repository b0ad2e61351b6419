import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { CODEC_VERSION } from '../../../../../codec/version.js'
import { packageVersion } from '../../../../../version.js'

const version: FastifyPluginAsyncTypebox = async app => {
  app.get('/version', {
    schema: {
      tags: ['consumer'],
      summary: 'Versions of wsbackend and of its tag URL codec',
      response: { 200: Type.Object({ wsbackend: Type.String(), codec: Type.String() }) }
    }
  }, async () => ({ wsbackend: packageVersion, codec: CODEC_VERSION }))
}

export default version
