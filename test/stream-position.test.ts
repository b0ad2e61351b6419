import t from 'tap'
import { decode, parseTagUrl, TagEncoder } from '../codec/index.js'
import { pairsWritten, streamPositions } from '../db/captures.js'

// A sample's place in its tag's stream, from authenticated fields only: the identity that lets
// /samples recognise copies of one sample across captures. Checked against the encoder for every
// count through several buffer wraps and loop-count increments.

const KEY = 'AAAABBBBCCCCDDDD'

for (const format of [1, 2] as const) {
  t.test(`format ${format}: positions equal the index of each reading pushed since the reset`, async t => {
    const encoder = new TagEncoder({ serial: 'abcdabcd', secretKey: KEY, baseUrl: 'cupl.example', format, intervalMins: 1, useHmac: true, batteryAdc: 128, resetsAllTime: 3 })
    const limit = format === 1 ? 800 : 1600
    let failures = 0
    for (let n = 1; n <= limit; n++) {
      encoder.pushSample(n % 4000, (n * 7) % 4000)
      const decoded = decode({ ...parseTagUrl(encoder.url()), secretKey: KEY, useHmac: true, scanTime: new Date('2026-01-01T00:00:00Z') })
      const expectedPairs = format === 1 ? n : Math.ceil(n / 2)
      const positions = Array.from(streamPositions(decoded))
      const expected = Array.from({ length: decoded.samples.length }, (_, k) => n - 1 - k)
      if (pairsWritten(decoded) !== expectedPairs || positions.join() !== expected.join()) {
        failures++
        if (failures < 5) t.fail(`n=${n}: pairs ${pairsWritten(decoded)} (want ${expectedPairs}), positions ${positions.slice(0, 4).join()}… (want ${expected.slice(0, 4).join()}…)`)
      }
    }
    t.equal(failures, 0, `all ${limit} counts`)
  })
}
