import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { findCapture, listCaptures, listCaptureSamples } from '../../../../../db/captures.js'
import { findTagBySerial } from '../../../../../db/tags.js'
import { findUserBySub } from '../../../../../db/users.js'
import { claimsOf } from '../../../../../plugins/auth.js'
import { detailed, Errors, tagNotFound } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { captureSampleBatches } from '../../../../../db/samples.js'
import { captureView, postCapture } from '../../../../captures.js'
import { jsonOrCsv, sendCsv, wantsCsv } from '../../../../csv.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { Capture, CaptureBody, errorResponses, IdParams, Sample, Serial } from '../../../../schemas.js'

const postErrors = errorResponses(400, 401, 404, 409, 422)

const captures: FastifyPluginAsyncTypebox = async app => {
  app.post('/captures', {
    schema: {
      tags: ['consumer'],
      summary: 'Store a scan: the query values of the URL the tag handed over',
      description: 'Decoded with the tag\'s secret key (HMAC-MD5 only). 401 `hash_mismatch` (ecode 103), 409 `capture_exists` (a replay, with `capture_id`), 422 `invalid_major_version` (101), `invalid_format` (102), `delimiter_not_found` (105), 400 `no_circular_buffer` (104) or `malformed_capture` (100).',
      body: CaptureBody,
      response: { 201: Capture, ...postErrors }
    }
  }, async (request, reply) => {
    return await reply.code(201).send(captureView(await postCapture(app, request.body, null)))
  })

  app.post('/me/captures', {
    schema: {
      tags: ['consumer'],
      summary: 'Store a scan as the caller (who must be registered)',
      security: bearer(app.scopes.writeUser),
      body: CaptureBody,
      response: { 201: Capture, ...postErrors, 403: postErrors[401]! }
    }
  }, async (request, reply) => {
    const user = await findUserBySub(app.db, claimsOf(request).sub)
    if (user === undefined) throw new Errors.userNotRegistered()
    return await reply.code(201).send(captureView(await postCapture(app, request.body, user.id)))
  })

  app.get('/me/captures', {
    schema: {
      tags: ['consumer'],
      summary: 'The caller\'s captures, newest first; distinctOnTag=true keeps only the newest per tag',
      security: bearer(app.scopes.readUser),
      querystring: Type.Intersect([Page, Type.Object({ distinctOnTag: Type.Boolean({ default: false }) })]),
      response: { 200: { ...Type.Array(Capture), headers: pageHeaders }, ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    const user = await findUserBySub(app.db, claimsOf(request).sub)
    if (user === undefined) throw new Errors.userNotRegistered()
    const { offset, limit, distinctOnTag } = request.query
    const { items, total } = await listCaptures(app.db, { userId: user.id, distinctOnTag }, offset, limit)
    setPageHeaders(request, reply, request.query, total)
    return items.map(captureView)
  })

  app.get('/captures', {
    schema: {
      tags: ['consumer'],
      summary: 'The captures of one tag, newest first',
      querystring: Type.Intersect([Type.Object({ serial: Serial }), Page]),
      response: { 200: { ...Type.Array(Capture), headers: pageHeaders }, ...errorResponses(400, 404) }
    }
  }, async (request, reply) => {
    const tag = await findTagBySerial(app.db, request.query.serial)
    if (tag === undefined) throw tagNotFound(request.query.serial)
    const { items, total } = await listCaptures(app.db, { tagId: tag.id }, request.query.offset, request.query.limit)
    setPageHeaders(request, reply, request.query, total)
    return items.map(captureView)
  })

  app.get('/captures/:id', {
    schema: {
      tags: ['consumer'],
      summary: 'One capture',
      params: IdParams,
      response: { 200: Capture, ...errorResponses(400, 404) }
    }
  }, async request => {
    const capture = await findCapture(app.db, request.params.id)
    if (capture === undefined) throw detailed(new Errors.notFound(`No capture with id ${request.params.id}`), { code: 'capture_not_found' })
    return captureView(capture)
  })

  app.get('/captures/:id/samples', {
    schema: {
      tags: ['consumer'],
      summary: 'The samples of one capture, newest first, each with its location if it has one',
      description: '`Accept: text/csv` streams all of them as `timestamp,temp,rh` (offset and limit do not apply).',
      params: IdParams,
      querystring: Page,
      response: { 200: jsonOrCsv(Type.Array(Sample), pageHeaders), ...errorResponses(400, 404) }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const notFound = (): Error => detailed(new Errors.notFound(`No capture with id ${id}`), { code: 'capture_not_found' })
    if (wantsCsv(request, reply)) {
      if (await findCapture(app.db, id) === undefined) throw notFound()
      return await sendCsv(reply, captureSampleBatches(app.db, id), `capture-${id}.csv`)
    }
    const page = await listCaptureSamples(app.db, id, request.query.offset, request.query.limit)
    if (page === undefined) throw notFound()
    setPageHeaders(request, reply, request.query, page.total)
    return page.items
  })
}

export default captures
