import fc from 'fast-check'
import t from 'tap'
import {
  blockPadding,
  decode,
  DelimiterNotFoundError,
  MalformedInputError,
  parseTagUrl,
  type DecodedCapture,
} from '../codec/index.js'
import { BOUNDARY_COUNTS, encodeScenario, readingArb, scenarioArb, type Scenario } from './codec/arbitraries.js'

const MINUTE = 60_000
const MAX_PAIRS = 188

interface ExpectedSample {
  timestampMs: number
  rawTemp: number
  rawRh: number | null
  pairIndex: number
  slot: 0 | 1
}

/** What the URL must decode to, worked out from the spec rather than from the encoder. */
function expectedCapture({ config, readings, elapsedMins, scanTime }: Scenario) {
  const n = readings.length
  const temperatureOnly = config.format === 2
  const pairsPushed = temperatureOnly ? Math.ceil(n / 2) : n
  // After the first wrap a new demi evicts a whole old one: 187 or 188 pairs remain.
  const nPairs = pairsPushed <= MAX_PAIRS ? pairsPushed : pairsPushed % 2 === 1 ? MAX_PAIRS - 1 : MAX_PAIRS
  const loopCount = n === 0 ? 0 : Math.floor((n - 1) / (temperatureOnly ? 384 : 192))

  const kept: { index: number; rawTemp: number; rawRh: number | null }[] = []
  if (temperatureOnly) {
    for (let i = 2 * (pairsPushed - nPairs); i < n; i++) kept.push({ index: i, rawTemp: readings[i]![0] & 0xfff, rawRh: null })
  } else {
    for (let i = n - nPairs; i < n; i++) kept.push({ index: i, rawTemp: readings[i]![0] & 0xfff, rawRh: readings[i]![1] & 0xfff })
  }
  // Format 2: a 4095 in the second slot of a pair reads as "empty" and is dropped.
  const survivors = kept.filter((s) => !(temperatureOnly && s.index % 2 === 1 && s.rawTemp === 4095)).reverse()
  const newestMs = scanTime.getTime() - (elapsedMins ?? 0) * MINUTE
  const samples: ExpectedSample[] = survivors.map((s, k) => ({
    timestampMs: newestMs - k * config.intervalMins * MINUTE,
    rawTemp: s.rawTemp,
    rawRh: s.rawRh,
    pairIndex: temperatureOnly ? pairsPushed - 1 - Math.floor(s.index / 2) : n - 1 - s.index,
    slot: temperatureOnly ? ((s.index % 2) as 0 | 1) : 0,
  }))
  return {
    nPairs,
    loopCount,
    resetCauseRaw: loopCount > 0 ? 0 : (config.resetCause ?? 0),
    samples,
    cursorDemi: Math.floor((pairsPushed - 1) / 2) % 96,
  }
}

function check(scenario: Scenario): void {
  const { config, scanTime } = scenario
  const url = encodeScenario(scenario)
  const padding = blockPadding(config.baseUrl)
  const expectedLength = 816 + config.baseUrl.length + padding - (config.httpsDisable ? 1 : 0)
  if (url.length !== expectedLength) throw new Error(`URL length ${url.length}, expected ${expectedLength}`)

  const query = parseTagUrl(url)
  const input = { ...query, secretKey: config.secretKey, useHmac: config.useHmac, scanTime }
  const expected = expectedCapture(scenario)
  if (n(scenario) === 0) {
    let error: unknown
    try {
      decode(input)
    } catch (e) {
      error = e
    }
    if (scenario.elapsedMins !== null) {
      // Setting the elapsed time before the first sample corrupts the firmware's URL.
      if (!(error instanceof MalformedInputError)) throw new Error(`expected MalformedInput, got ${String(error)}`)
      return
    }
    if (!(error instanceof DelimiterNotFoundError)) throw new Error(`no sample: expected DelimiterNotFound, got ${String(error)}`)
    same(error.status.resetCauseRaw, config.resetCause ?? 0, 'reset cause')
    return
  }

  const capture: DecodedCapture = decode(input)
  same(capture.formatCode, config.format, 'format')
  same(capture.nPairs, expected.nPairs, 'nPairs')
  same(capture.intervalMins, config.intervalMins, 'interval')
  same(capture.elapsedMins, scenario.elapsedMins ?? 0, 'elapsed')
  same(capture.endMarkerPos, (8 * expected.cursorDemi + 23) % 768, 'end marker')
  same(capture.hashType, config.useHmac ? 'HMAC_MD5' : 'MD5', 'hash type')
  same(capture.status.loopCount, expected.loopCount, 'loop count')
  same(capture.status.resetsAllTime, config.resetsAllTime ?? 0, 'resets all time')
  same(capture.status.batteryRaw, config.batteryAdc, 'battery code')
  same(capture.status.batteryMv, config.batteryAdc === 0 ? null : (256 * 1500) / config.batteryAdc, 'battery mV')
  same(capture.status.resetCauseRaw, expected.resetCauseRaw, 'reset cause')
  same(capture.samples.length, expected.samples.length, 'sample count')
  capture.samples.forEach((sample, k) => {
    const want = expected.samples[k]!
    same(sample.rawTemp, want.rawTemp, `sample ${k} raw temperature`)
    same(sample.rawRh, want.rawRh, `sample ${k} raw humidity`)
    same(sample.pairIndex, want.pairIndex, `sample ${k} pair`)
    same(sample.slot, want.slot, `sample ${k} slot`)
    same(sample.timestampMs, want.timestampMs, `sample ${k} timestamp`)
    same(sample.timestamp.getTime(), want.timestampMs, `sample ${k} timestamp as a Date`)
    same(sample.temp, (want.rawTemp * 165) / 4096 - 40, `sample ${k} °C`)
    same(sample.rh, want.rawRh === null ? null : (want.rawRh * 100) / 4096, `sample ${k} %RH`)
  })
}

function n(scenario: Scenario): number {
  return scenario.readings.length
}

function same(actual: unknown, expected: unknown, what: string): void {
  if (!Object.is(actual, expected)) throw new Error(`${what}: got ${String(actual)}, expected ${String(expected)}`)
}

t.test('random tags decode back to the pushed readings, newest first, spaced by the interval', async (t) => {
  fc.assert(fc.property(scenarioArb(), check), { numRuns: 300 })
  t.pass('300 random configurations and reading sequences')
})

t.test('every fill, wrap and loop boundary, both formats', async (t) => {
  const readings = fc.sample(fc.tuple(readingArb, readingArb), { numRuns: 800, seed: 42 })
  for (const format of [1, 2]) {
    for (const count of BOUNDARY_COUNTS) {
      const scenario: Scenario = {
        config: {
          serial: 'abcdabcd',
          secretKey: 'AAAABBBBCCCCDDDD',
          baseUrl: 'plotsensor.com',
          format,
          intervalMins: 10,
          useHmac: true,
          resetCause: 0x81,
          batteryAdc: 100,
        },
        readings: readings.slice(0, count),
        elapsedMins: 7,
        scanTime: new Date('2024-05-01T12:00:00Z'),
      }
      t.doesNotThrow(() => check(scenario), `format ${format}, ${count} samples`)
    }
  }
})

t.test('format 2 drops a genuine 4095 in the second slot and shifts older samples', async (t) => {
  const scenario: Scenario = {
    config: { serial: 'abcdabcd', secretKey: 'k', baseUrl: 'x.io', format: 2, intervalMins: 5, useHmac: true, batteryAdc: 90 },
    readings: [1000, 4095, 1200, 4095, 4095, 1500].map((r) => [r, 0]),
    elapsedMins: null,
    scanTime: new Date('2024-05-01T12:00:00Z'),
  }
  const capture = decode({ ...parseTagUrl(encodeScenario(scenario)), secretKey: 'k', useHmac: true, scanTime: scenario.scanTime })
  t.strictSame(
    capture.samples.map((s) => s.rawTemp),
    [1500, 4095, 1200, 1000],
    'the 4095s in slots 1 and 3 are gone; the one in slot 4 (a first slot) stays',
  )
  t.equal(capture.samples[3]!.timestampMs, scenario.scanTime.getTime() - 3 * 5 * MINUTE)
})
