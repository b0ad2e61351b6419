import fc from 'fast-check'
import t from 'tap'
import { CodecError, decode, parseTagUrl, type DecodedCapture, type DecodeInput } from '../codec/index.js'
import { encodeScenario, scenarioArb } from './codec/arbitraries.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const KINDS = new Set(['InvalidMajorVersion', 'InvalidFormat', 'MessageIntegrity', 'NoCircularBuffer', 'DelimiterNotFound', 'MalformedInput'])

type Field = 'statb64' | 'timeintb64' | 'circb64' | 'vfmtb64'

interface Mutation {
  field: Field
  op: 'replace' | 'delete' | 'insert' | 'duplicate' | 'swap' | 'truncate' | 'rotate' | 'flipCase'
  /** Where in q: anywhere, in the endstop, or among the newest (hashed) demis. */
  region: 'anywhere' | 'endstop' | 'payload'
  at: number
  char: string
}

const charArb = fc.oneof(
  fc.constantFrom(...ALPHABET),
  fc.constantFrom('.', '~', '=', '+', '/', '!', ' ', '%', '&', '\0', 'é', 'Ł', '😀', '\uD800', '\u00ff'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  field: fc.constantFrom<Field>('circb64', 'circb64', 'circb64', 'circb64', 'statb64', 'timeintb64', 'vfmtb64'),
  op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'insert', 'duplicate', 'swap', 'truncate', 'rotate', 'flipCase'),
  region: fc.constantFrom('anywhere', 'endstop', 'payload'),
  at: fc.nat({ max: 10_000 }),
  char: charArb,
})

function position(value: string, m: Mutation): number {
  if (value.length === 0) return 0
  const tilde = value.indexOf('~')
  if (m.field === 'circb64' && tilde >= 0 && m.region !== 'anywhere') {
    const back = m.region === 'endstop' ? 1 + (m.at % 16) : 17 + (m.at % 64)
    return (((tilde + 1 - back) % value.length) + value.length) % value.length
  }
  return m.at % value.length
}

function mutate(value: string, m: Mutation): string {
  const i = position(value, m)
  switch (m.op) {
    case 'replace':
      return value.slice(0, i) + m.char + value.slice(i + 1)
    case 'delete':
      return value.slice(0, i) + value.slice(i + 1)
    case 'insert':
      return value.slice(0, i) + m.char + value.slice(i)
    case 'duplicate':
      return value.slice(0, i + 1) + value.slice(i)
    case 'swap':
      return value.slice(0, i) + value.slice(i + 1, i + 2) + value.slice(i, i + 1) + value.slice(i + 2)
    case 'truncate':
      return value.slice(0, i)
    case 'rotate':
      return value.slice(i) + value.slice(0, i)
    case 'flipCase': {
      const c = value.charAt(i)
      return value.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + value.slice(i + 1)
    }
  }
}

type Outcome = { capture: DecodedCapture } | { error: CodecError }

/** Decodes; anything thrown that is not a CodecError escapes and fails the property. */
function attempt(input: DecodeInput): Outcome {
  try {
    return { capture: decode(input) }
  } catch (error) {
    if (error instanceof CodecError && KINDS.has(error.kind)) return { error }
    throw error
  }
}

t.test('mutated URLs decode to a result or one of our errors, never a result on a changed hash', async (t) => {
  const counts = { result: 0, error: 0, unchanged: 0 }
  fc.assert(
    fc.property(scenarioArb(400), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (scenario, mutations) => {
      const query = parseTagUrl(encodeScenario(scenario))
      const input: DecodeInput = {
        ...query,
        secretKey: scenario.config.secretKey,
        useHmac: scenario.config.useHmac,
        scanTime: scenario.scanTime,
      }
      const original = attempt(input)
      const mutated = { ...input }
      for (const m of mutations) mutated[m.field] = mutate(mutated[m.field], m)
      const got = attempt(mutated)
      if ('error' in got) {
        counts.error++
        return
      }
      counts.result++
      if (!('capture' in original)) throw new Error('a result from a URL that had none')
      const before = original.capture
      const after = got.capture
      if (after.hash !== before.hash) throw new Error(`a result on a changed hash: ${before.hash} → ${after.hash}`)
      // Everything the hash covers must be as encoded.
      if (after.nPairs !== before.nPairs || after.endMarkerPos !== before.endMarkerPos) throw new Error('pairs or end marker changed')
      if (!Buffer.from(after.pairs.buffer).equals(Buffer.from(before.pairs.buffer))) throw new Error('readings changed')
      if (JSON.stringify(after.status) !== JSON.stringify(before.status)) throw new Error('status changed')
      if (mutated.circb64 === input.circb64 && mutated.statb64 === input.statb64) counts.unchanged++
    }),
    { numRuns: 4000 },
  )
  t.ok(counts.error > 1000, `${counts.error} mutations rejected`)
  t.ok(counts.result > 100, `${counts.result} mutations still decoded (stale data, elapsed, t, v padding …)`)
})

t.test('arbitrary strings in every field give only our errors', async (t) => {
  const valid = parseTagUrl(
    encodeScenario({
      config: { serial: 'abcdabcd', secretKey: 'k', baseUrl: 'p.io', format: 1, intervalMins: 1, useHmac: true, batteryAdc: 9 },
      readings: [[1, 2], [3, 4], [5, 6]],
      elapsedMins: null,
      scanTime: new Date(),
    }),
  )
  const anyString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(...ALPHABET, '.', '~'), maxLength: 800 }),
  )
  fc.assert(
    fc.property(
      fc.record({
        statb64: fc.oneof(anyString, fc.constant(valid.statb64)),
        timeintb64: fc.oneof(anyString, fc.constant(valid.timeintb64)),
        circb64: fc.oneof(anyString, fc.constant(valid.circb64)),
        vfmtb64: fc.oneof(anyString, fc.constant(valid.vfmtb64)),
        secretKey: fc.string({ maxLength: 20 }),
        useHmac: fc.boolean(),
        scanTime: fc.date(),
      }),
      (input) => {
        const got = attempt(input)
        if ('capture' in got && input.circb64 !== valid.circb64) throw new Error('a result from a random buffer')
      },
    ),
    { numRuns: 2000 },
  )
  t.pass('2000 random inputs')
})

t.test('arguments of the wrong type are MalformedInput, not a TypeError', async (t) => {
  const valid = { statb64: 'AAAAAABk', timeintb64: 'CgA.', circb64: '', vfmtb64: 'AAIB', secretKey: 'k', useHmac: true, scanTime: new Date() }
  const cases: [Partial<Record<keyof DecodeInput, unknown>>, string][] = [
    [{ statb64: undefined }, 'x'],
    [{ timeintb64: 5 }, 't'],
    [{ circb64: null }, 'q'],
    [{ vfmtb64: {} }, 'v'],
    [{ secretKey: undefined }, 'secretkey'],
    [{ useHmac: 'yes' }, 'secretkey'],
    [{ scanTime: 'now' }, 'scantime'],
    [{ scanTime: new Date(Number.NaN) }, 'scantime'],
  ]
  for (const [change, param] of cases) {
    t.throws(() => decode({ ...valid, ...change } as DecodeInput), { name: 'MalformedInputError', param }, JSON.stringify(change))
  }
})
