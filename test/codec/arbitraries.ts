import fc from 'fast-check'
import { TagEncoder, type TagEncoderConfig } from '../../codec/index.js'

// fast-check arbitraries for virtual tags, shared by the property and fuzz tests.

/** Counts around every point where the buffer fills, wraps or starts a new loop, for both formats. */
export const BOUNDARY_COUNTS = [
  0, 1, 2, 3, 4, 5, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 372, 373, 374, 375, 376, 377, 378, 379, 380,
  381, 382, 383, 384, 385, 386, 387, 388, 575, 576, 577, 578, 767, 768, 769, 770, 771, 772,
] as const

export const sampleCount = (max = 800): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_COUNTS.filter((n) => n <= max)) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max }) },
  )

export const configArb: fc.Arbitrary<TagEncoderConfig> = fc.record({
  serial: fc.stringMatching(/^[A-Za-z0-9_-]{8}$/),
  // The decoder keys HMAC with the whole key, the firmware with its first 16 bytes: keep to 16.
  secretKey: fc.stringMatching(/^[\x21-\x7e]{1,16}$/),
  baseUrl: fc.stringMatching(/^[a-z0-9./-]{0,60}$/),
  httpsDisable: fc.boolean(),
  format: fc.constantFrom(1, 2),
  intervalMins: fc.oneof(fc.constantFrom(0, 1, 10, 1440), fc.integer({ min: 0, max: 1440 })),
  useHmac: fc.boolean(),
  resetCause: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  batteryAdc: fc.oneof(fc.constantFrom(0, 1, 100, 255), fc.integer({ min: 0, max: 255 })),
  resetsAllTime: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
})

/** A 12-bit reading, the extremes (and the format-2 sentinel 4095) often. */
export const readingArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 2047, 2048, 4094, 4095) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 4095 }) },
)

export interface Scenario {
  config: TagEncoderConfig
  readings: [number, number][]
  elapsedMins: number | null
  scanTime: Date
}

export const scenarioArb = (maxSamples = 800, reading = readingArb): fc.Arbitrary<Scenario> =>
  fc.record({
    config: configArb,
    readings: sampleCount(maxSamples).chain((n) =>
      fc.array(fc.tuple(reading, reading), { minLength: n, maxLength: n }),
    ),
    elapsedMins: fc.option(fc.integer({ min: 0, max: 65535 })),
    scanTime: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
  })

export function encodeScenario({ config, readings, elapsedMins }: Scenario): string {
  const tag = new TagEncoder(config)
  for (const [rd0, rd1] of readings) tag.pushSample(rd0, rd1)
  if (elapsedMins !== null) tag.setElapsedMinutes(elapsedMins)
  return tag.url()
}
