import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { listWindow, windowBatches } from '../../../../../db/samples.js'
import { findTagBySerial } from '../../../../../db/tags.js'
import { tagNotFound } from '../../../../../plugins/errors.js'
import { jsonOrCsv, sendCsv, wantsCsv } from '../../../../csv.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { errorResponses, Sample, Serial } from '../../../../schemas.js'
import { windowBounds, WindowQuery } from '../../../../window.js'

const Query = Type.Intersect([
  Type.Object({ serial: Serial }),
  WindowQuery,
  Page
])

const samples: FastifyPluginAsyncTypebox = async app => {
  app.get('/samples', {
    schema: {
      tags: ['consumer'],
      summary: 'One tag\'s time series: every physical sample in the window once, newest first',
      description: 'Scans overlap, so most samples arrive in many captures; each is returned once, as the copy from the earliest capture, with its location if it has one. `Accept: text/csv` streams the whole window as `timestamp,temp,rh` (offset and limit do not apply).',
      querystring: Query,
      response: { 200: jsonOrCsv(Type.Array(Sample), pageHeaders), ...errorResponses(400, 404) }
    }
  }, async (request, reply) => {
    const { serial, offset, limit } = request.query
    const tag = await findTagBySerial(app.db, serial)
    if (tag === undefined) throw tagNotFound(serial)
    const window = { tagId: tag.id, ...windowBounds(request.query) }
    if (wantsCsv(request, reply)) return await sendCsv(reply, windowBatches(app.db, window), `${serial}.csv`)
    const { items, total } = await listWindow(app.db, window, offset, limit)
    setPageHeaders(request, reply, request.query, total)
    return items
  })
}

export default samples
