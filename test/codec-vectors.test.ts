import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import {
  captureToJson,
  CodecError,
  decode,
  DelimiterNotFoundError,
  InvalidFormatError,
  InvalidMajorVersionError,
  MalformedInputError,
  MessageIntegrityError,
  NoCircularBufferError,
  statusToJson,
} from '../codec/index.js'
import {
  CRASH_DECISIONS,
  decodeInputOf,
  fixtureVectorsUrl,
  loadVectors,
  REFERENCE_ERRORS,
  sharedVectorsUrl,
  type Vector,
} from './codec/vectors.js'

const { vectors } = loadVectors()

function outcome(vector: Vector): { capture: ReturnType<typeof decode> } | { error: CodecError } {
  try {
    return { capture: decode(decodeInputOf(vector.decode_input)) }
  } catch (error) {
    if (error instanceof CodecError) return { error }
    throw error
  }
}

t.test('the in-repo copy of the vectors is the shared one', async (t) => {
  t.ok(existsSync(fixtureVectorsUrl), 'test/fixtures/vectors/sample.json exists')
  if (existsSync(sharedVectorsUrl)) {
    t.ok(
      readFileSync(fixtureVectorsUrl).equals(readFileSync(sharedVectorsUrl)),
      'identical to ../shared/vectors/sample.json',
    )
  } else {
    t.ok(vectors.length > 0, '../shared is absent here; the copy holds vectors')
  }
})

t.test('the vectors cover results, each reference error and crashes', async (t) => {
  const classes = new Set(vectors.filter((v) => !v.expected.ok).map((v) => (v.expected.ok ? '' : v.expected.error.class)))
  for (const name of Object.keys(REFERENCE_ERRORS)) t.ok(classes.has(name), `a vector expects ${name}`)
  t.ok(vectors.some((v) => v.expected.ok), 'some vectors decode')
  t.ok(Object.keys(CRASH_DECISIONS).every((id) => vectors.some((v) => v.id === id)), 'every decision names a vector')
})

for (const vector of vectors) {
  t.test(`${vector.id}: ${vector.description}`, async (t) => {
    const expected = vector.expected
    const got = outcome(vector)

    if (expected.ok) {
      if (!('capture' in got)) return t.fail(`expected a result, got ${got.error.kind}: ${got.error.message}`)
      t.strictSame(captureToJson(got.capture), expected.result, 'same readings, timestamps and status')
      return
    }

    const referenceKind = REFERENCE_ERRORS[expected.error.class]
    if (referenceKind !== undefined) {
      if (!('error' in got)) return t.fail(`expected ${referenceKind}, got a result`)
      t.equal(got.error.kind, referenceKind, 'the same kind of error as the reference')
      const { fields } = expected.error
      const error = got.error
      if (error instanceof MessageIntegrityError) {
        t.equal(error.calculatedHash, fields.calchash)
        t.equal(error.urlHash, fields.urlhash)
      } else if (error instanceof InvalidMajorVersionError) {
        t.equal(error.encoderVersion, fields.encoderversion)
        t.equal(error.decoderVersion, fields.decoderversion)
      } else if (error instanceof InvalidFormatError) {
        t.equal(error.formatCode, fields.circformat)
      } else if (error instanceof NoCircularBufferError || error instanceof DelimiterNotFoundError) {
        t.strictSame(statusToJson(error.status), fields.status, 'carries the status')
      } else {
        t.fail(`unexpected error class ${error.name}`)
      }
      return
    }

    const decision = CRASH_DECISIONS[vector.id]
    if (decision === undefined) {
      return t.fail(`the reference crashes (${expected.error.class}); record what we do in CRASH_DECISIONS`)
    }
    if (!('error' in got)) return t.fail(`decided ${decision.kind} (${decision.why}), got a result`)
    t.equal(got.error.kind, decision.kind, decision.why)
    if (decision.kind === 'MalformedInput') {
      t.type(got.error, MalformedInputError)
      t.equal((got.error as MalformedInputError).param, decision.param, `blames ${decision.param}`)
    } else {
      t.type(got.error, NoCircularBufferError)
      const status = (got.error as NoCircularBufferError).status
      t.equal(status.batteryRaw, 0)
      t.equal(status.batteryMv, null, 'battery code 0 gives no voltage instead of a division by zero')
    }
  })
}
