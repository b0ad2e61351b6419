import Fastify from 'fastify'
import t from 'tap'
import errors from '../plugins/errors.js'

// How database failures that are not our bug reach the client: never as a 500.

function pgError (code: string): Error {
  return Object.assign(new Error(`database says ${code}`), { severity: 'ERROR', code })
}

const cases: Array<[string, Error, number, string, boolean]> = [
  ['a NUL in a string (22021)', pgError('22021'), 400, 'invalid_value', false],
  ['a bad date-time value (22007)', pgError('22007'), 400, 'invalid_value', false],
  ['a row removed by a concurrent request (23503)', pgError('23503'), 409, 'concurrent_change', false],
  ['a row added by a concurrent request (23505)', pgError('23505'), 409, 'concurrent_change', false],
  ['a deadlock (40P01)', pgError('40P01'), 503, 'database_busy', true],
  ['a serialization failure (40001)', pgError('40001'), 503, 'database_busy', true],
  ['too many connections (53300)', pgError('53300'), 503, 'database_unavailable', true],
  ['the server shutting down (57P01)', pgError('57P01'), 503, 'database_unavailable', true],
  ['no database at the address', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 503, 'database_unavailable', true]
]

t.test('database failures map to 400, 409 or 503, with the API error shape', async t => {
  const app = Fastify({ logger: false })
  await app.register(errors)
  let next: Error = new Error('unset')
  app.get('/fail', async () => { throw next })
  t.teardown(async () => { await app.close() })
  for (const [name, error, status, code, retry] of cases) {
    next = error
    const res = await app.inject({ url: '/fail' })
    t.equal(res.statusCode, status, name)
    t.match(res.json(), { statusCode: status, error: String, message: String, code }, `${name}: body`)
    t.notOk(res.body.includes('database says'), `${name}: the database's own words stay inside`)
    t.equal(res.headers['retry-after'] !== undefined, retry, `${name}: Retry-After ${retry ? 'set' : 'absent'}`)
  }
  next = pgError('XX000') // an internal error of the database is ours to fix: 500
  t.equal((await app.inject({ url: '/fail' })).statusCode, 500)
})
