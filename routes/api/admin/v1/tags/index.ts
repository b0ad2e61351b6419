import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { createTag, deleteTag, findTagById, listTags, updateTag } from '../../../../../db/tags.js'
import { detailed, Errors } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { AdminTag, errorResponses, IdParams, TagBody } from '../../../../schemas.js'
import { parseTagUrl, simulateTagUrl } from '../../../../simulate.js'

const SimulateQuery = Type.Object({
  frontendurl: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 200, description: 'the frontend the tag\'s URL points to, e.g. https://cupl.example/' }),
  nsamples: Type.Integer({ minimum: 0, maximum: 5000, default: 100 }),
  smplintervalmins: Type.Integer({ minimum: 1, maximum: 65535, default: 10 }),
  format: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1, description: '1: temperature and humidity; 2: temperature only' }),
  usehmac: Type.Boolean({ default: true, description: 'false gives a plain-MD5 URL, which the consumer API rejects' }),
  batvoltagemv: Type.Integer({ minimum: 1600, maximum: 4900, default: 3000 }),
  bor: Type.Boolean({ default: false, description: 'reset cause: brownout' }),
  svsh: Type.Boolean({ default: false, description: 'reset cause: supervisor' }),
  wdt: Type.Boolean({ default: false, description: 'reset cause: watchdog' }),
  misc: Type.Boolean({ default: false, description: 'reset cause: miscellaneous' }),
  lpm5wu: Type.Boolean({ default: false, description: 'reset cause: LPMx.5 wake-up' }),
  clockfail: Type.Boolean({ default: false, description: 'reset cause: clock failure' }),
  tagerror: Type.Boolean({ default: false, description: 'the tag reports an error: no samples in the URL' })
})

const Simulated = Type.Object({
  url: Type.String({ description: 'the URL the tag would hand a phone now' }),
  serial: Type.String(),
  statusb64: Type.String(),
  timeintb64: Type.String(),
  circbufb64: Type.String(),
  vfmtb64: Type.String()
}, { description: 'the URL, and its query values ready to post to /api/consumer/v1/captures' })

/** The frontend's URL, or 400: the format check lets through some that `URL` refuses (`https://`). */
function frontendUrlOf (raw: string): URL {
  try {
    const url = new URL(raw)
    if (url.hostname !== '') return url
  } catch { /* answered below */ }
  throw detailed(new Errors.badRequest(`frontendurl is not a usable URL: ${JSON.stringify(raw)}`), { code: 'invalid_request' })
}

const tags: FastifyPluginAsyncTypebox = async app => {
  const read = bearer(app.scopes.adminRead)
  const write = bearer(app.scopes.adminWrite)

  app.get('/tags', {
    schema: {
      tags: ['admin'],
      summary: 'All tags, newest first',
      security: read,
      querystring: Page,
      response: { 200: { ...Type.Array(AdminTag), headers: pageHeaders }, ...errorResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const { items, total } = await listTags(app.db, request.query.offset, request.query.limit)
    setPageHeaders(request, reply, request.query, total)
    return items
  })

  app.post('/tags', {
    schema: {
      tags: ['admin'],
      summary: 'Register a tag; serial (8 characters) and secret key (16) are generated unless given',
      security: write,
      body: TagBody,
      response: { 201: AdminTag, ...errorResponses(400, 401, 403, 409) }
    }
  }, async (request, reply) => {
    const tag = await createTag(app.db, request.body)
    if (tag === undefined) throw new Errors.conflict(`A tag with serial "${request.body.serial ?? ''}" exists already`)
    return await reply.code(201).send(tag)
  })

  app.get('/tag/:id', {
    schema: {
      tags: ['admin'],
      summary: 'One tag, with its secret key',
      security: read,
      params: IdParams,
      response: { 200: AdminTag, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => {
    const tag = await findTagById(app.db, request.params.id)
    if (tag === undefined) throw new Errors.notFound(`No tag with id ${request.params.id}`)
    return tag
  })

  app.put('/tag/:id', {
    schema: {
      tags: ['admin'],
      summary: 'Change a tag: the fields given are set, the others kept',
      security: write,
      params: IdParams,
      body: TagBody,
      response: { 200: AdminTag, ...errorResponses(400, 401, 403, 404, 409) }
    }
  }, async request => {
    const result = await updateTag(app.db, request.params.id, request.body)
    if (result === 'not_found') throw new Errors.notFound(`No tag with id ${request.params.id}`)
    if (result === 'serial_taken') throw new Errors.conflict(`A tag with serial "${request.body.serial ?? ''}" exists already`)
    return result
  })

  app.get('/tag/:id/simulate', {
    schema: {
      tags: ['admin'],
      summary: 'The URL this tag would produce now, made by our own encoder with simulated readings',
      security: read,
      params: IdParams,
      querystring: SimulateQuery,
      response: { 200: Simulated, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => {
    const tag = await findTagById(app.db, request.params.id)
    if (tag === undefined) throw new Errors.notFound(`No tag with id ${request.params.id}`)
    const q = request.query
    const url = simulateTagUrl({
      serial: tag.serial,
      secretKey: tag.secretkey,
      frontendUrl: frontendUrlOf(q.frontendurl),
      nSamples: q.nsamples,
      intervalMins: q.smplintervalmins,
      format: q.format,
      useHmac: q.usehmac,
      batteryMv: q.batvoltagemv,
      resetCause: (q.bor ? 1 : 0) | (q.svsh ? 2 : 0) | (q.wdt ? 4 : 0) | (q.misc ? 8 : 0) | (q.lpm5wu ? 16 : 0) | (q.clockfail ? 32 : 0),
      tagError: q.tagerror,
      now: new Date()
    })
    const values = parseTagUrl(url)
    return { url, serial: tag.serial, statusb64: values.statb64, timeintb64: values.timeintb64, circbufb64: values.circb64, vfmtb64: values.vfmtb64 }
  })

  app.delete('/tag/:id', {
    schema: {
      tags: ['admin'],
      summary: 'Delete a tag with its captures, samples, locations and views',
      security: write,
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    if (!await deleteTag(app.db, request.params.id)) throw new Errors.notFound(`No tag with id ${request.params.id}`)
    return await reply.code(204).send(null)
  })
}

export default tags

