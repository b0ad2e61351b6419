import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import {
  canonicalSample, createLocation, deleteLocation, findLocation, hasScanned, listLocations, updateLocation
} from '../../../../../db/locations.js'
import { findTagBySerial } from '../../../../../db/tags.js'
import { findUserBySub } from '../../../../../db/users.js'
import { claimsOf } from '../../../../../plugins/auth.js'
import { detailed, Errors, tagNotFound } from '../../../../../plugins/errors.js'
import { bearer } from '../../../../../plugins/swagger.js'
import { Page, pageHeaders, setPageHeaders } from '../../../../pagination.js'
import { errorResponses, Id, IdParams, Location, Serial } from '../../../../schemas.js'
import { windowBounds, WindowQuery } from '../../../../window.js'

const Description = Type.String({ minLength: 1, maxLength: 50 })

const locations: FastifyPluginAsyncTypebox = async app => {
  const write = bearer(app.scopes.writeLocations)

  /** Only a registered user who has posted a capture of the tag may annotate its samples (401 otherwise: the original contract). */
  async function assertMayAnnotate (request: FastifyRequest, tagId: number): Promise<void> {
    const user = await findUserBySub(app.db, claimsOf(request).sub)
    if (user === undefined || !await hasScanned(app.db, user.id, tagId)) {
      throw detailed(new Errors.notPermitted('Only a user who has posted a capture of this tag may add, change or delete its locations'), { code: 'not_scanned' })
    }
  }

  async function locationOr404 (id: number): Promise<NonNullable<Awaited<ReturnType<typeof findLocation>>>> {
    const location = await findLocation(app.db, id)
    if (location === undefined) throw detailed(new Errors.notFound(`No location with id ${id}`), { code: 'location_not_found' })
    return location
  }

  app.post('/locations', {
    schema: {
      tags: ['consumer'],
      summary: 'Say where a sample was taken',
      description: 'The location belongs to the physical sample: it shows on every copy of it, and `capturesample_id` in the answer is the copy /samples returns. One location per sample (409 otherwise).',
      security: write,
      body: Type.Object({ capturesample_id: Id, description: Description }, { additionalProperties: false }),
      response: { 201: Location, ...errorResponses(400, 401, 403, 404, 409) }
    }
  }, async (request, reply) => {
    const id = request.body.capturesample_id
    const notFound = (): Error => detailed(new Errors.notFound(`No sample with id ${id}`), { code: 'sample_not_found' })
    const sample = await canonicalSample(app.db, id)
    if (sample === undefined) throw notFound()
    await assertMayAnnotate(request, sample.tagId)
    const location = await createLocation(app.db, sample.tagId, id, request.body.description)
    if (location === 'gone') throw notFound()
    if (location === 'exists') throw detailed(new Errors.conflict('This sample has a location already: PATCH it instead'), { code: 'location_exists' })
    return await reply.code(201).send(location)
  })

  app.patch('/locations/:id', {
    schema: {
      tags: ['consumer'],
      summary: 'Change a location\'s description',
      security: write,
      params: IdParams,
      body: Type.Object({ description: Description }, { additionalProperties: false }),
      response: { 200: Location, ...errorResponses(400, 401, 403, 404) }
    }
  }, async request => {
    const location = await locationOr404(request.params.id)
    await assertMayAnnotate(request, location.tag_id)
    return (await updateLocation(app.db, location.id, request.body.description)) ?? await locationOr404(request.params.id)
  })

  app.delete('/locations/:id', {
    schema: {
      tags: ['consumer'],
      summary: 'Delete a location',
      security: write,
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    const location = await locationOr404(request.params.id)
    await assertMayAnnotate(request, location.tag_id)
    await deleteLocation(app.db, location.id)
    return await reply.code(204).send(null)
  })

  app.get('/locations', {
    schema: {
      tags: ['consumer'],
      summary: 'Locations of one tag\'s samples, newest sample first; the window bounds the sample time',
      querystring: Type.Intersect([
        Type.Object({ serial: Serial }),
        WindowQuery,
        Page
      ]),
      response: { 200: { ...Type.Array(Location), headers: pageHeaders }, ...errorResponses(400, 404) }
    }
  }, async (request, reply) => {
    const { serial, offset, limit } = request.query
    const tag = await findTagBySerial(app.db, serial)
    if (tag === undefined) throw tagNotFound(serial)
    const { start, end } = windowBounds(request.query)
    const { items, total } = await listLocations(app.db, tag.id, start, end, offset, limit)
    setPageHeaders(request, reply, request.query, total)
    return items
  })

  app.get('/locations/:id', {
    schema: {
      tags: ['consumer'],
      summary: 'One location',
      params: IdParams,
      response: { 200: Location, ...errorResponses(400, 404) }
    }
  }, async request => {
    const { tag_id: _tag, ...location } = await locationOr404(request.params.id)
    return location
  })
}

export default locations
