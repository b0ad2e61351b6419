import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { decode } from './decode.js'
import { CodecError, DelimiterNotFoundError, NoCircularBufferError } from './errors.js'
import { isoSeconds } from './json.js'
import { decodeLine, encodeLine, parseIsoTimestamp } from './lines.js'
import type { DecodedCapture, TagStatus } from './types.js'
import { parseTagUrl } from './url.js'
import { CODEC_VERSION } from './version.js'

const USAGE = `usage:
  codec decode        JSON Lines of decode inputs on stdin → one JSON line each on stdout
  codec encode        JSON Lines of encoder configurations on stdin → {"url":…} lines on stdout
  codec decode-url <url> (--secret <key> | --md5) [--scan-time <iso 8601>]
                      decode one tag URL and print it for a person
`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'decode':
      await eachLine((line) => decodeLine(line))
      return 0
    case 'encode':
      await eachLine(encodeLine)
      return 0
    case 'decode-url':
      return decodeUrl(rest)
    case '--version':
      process.stdout.write(`${CODEC_VERSION}\n`)
      return 0
    default:
      process.stderr.write(USAGE)
      return 2
  }
}

/** Answers every stdin line in order; a line that fails still gets its answer, and the loop goes on. */
async function eachLine(answer: (line: string) => string): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    let output: string
    try {
      output = answer(line)
    } catch (error) {
      // A bug, not bad input: keep going, but say so on stderr.
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
      output = JSON.stringify({
        ok: false,
        error: { kind: 'MalformedInput', message: `unexpected error: ${(error as Error).message}` },
      })
    }
    if (!process.stdout.write(output + '\n')) {
      await new Promise<void>((resolve) => process.stdout.once('drain', resolve))
    }
  }
}

function decodeUrl(args: string[]): number {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        secret: { type: 'string' },
        md5: { type: 'boolean', default: false },
        'scan-time': { type: 'string' },
      },
    })
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  const [url] = positionals
  if (url === undefined || positionals.length > 1 || (values.secret === undefined && !values.md5)) {
    process.stderr.write(USAGE)
    return 2
  }
  const scanTime = values['scan-time'] === undefined ? new Date() : parseIsoTimestamp(values['scan-time'])
  if (scanTime === null) {
    process.stderr.write(`--scan-time must be an ISO 8601 date-time with a zone, e.g. 2022-03-24T13:06:55Z\n`)
    return 2
  }
  try {
    const query = parseTagUrl(url)
    if (query.serial !== null) process.stdout.write(`Tag        ${query.serial}\n`)
    const capture = decode({ ...query, secretKey: values.secret ?? '', useHmac: !values.md5, scanTime })
    process.stdout.write(describeCapture(capture, scanTime))
    return 0
  } catch (error) {
    if (!(error instanceof CodecError)) throw error
    if (error instanceof NoCircularBufferError || error instanceof DelimiterNotFoundError) {
      process.stdout.write(describeStatus(error.status))
    }
    process.stderr.write(`error: ${error.kind}: ${error.message}\n`)
    return 1
  }
}

function describeStatus(status: TagStatus): string {
  const causes = Object.entries(status.resetCause)
    .filter(([, set]) => set)
    .map(([cause]) => cause)
  const battery = status.batteryMv === null ? 'unknown' : `${Math.round(status.batteryMv)} mV`
  return (
    `Status     loop count ${status.loopCount}, resets all time ${status.resetsAllTime}, ` +
    `reset cause ${causes.length > 0 ? causes.join(', ') : 'none'} (0x${hex2(status.resetCauseRaw)})\n` +
    `Battery    ${battery} (ADC code ${status.batteryRaw})\n`
  )
}

function describeCapture(capture: DecodedCapture, scanTime: Date): string {
  const humidity = capture.formatCode === 1
  const lines = [
    `Format     ${capture.formatCode} (${humidity ? 'temperature and humidity' : 'temperature only'}), codec major version ${capture.encoderMajorVersion}`,
    `Scanned    ${isoSeconds(scanTime)}`,
    describeStatus(capture.status).trimEnd(),
    `Hash       ${capture.hash} (${capture.hashType === 'HMAC_MD5' ? 'HMAC-MD5' : 'MD5, unkeyed'}, verified)`,
    `Buffer     ${capture.nPairs} pairs, end marker at ${capture.endMarkerPos}`,
    `Timing     newest sample ${capture.elapsedMins} min before the scan, one every ${capture.intervalMins} min`,
    `Samples    ${capture.samples.length}, newest first`,
    '',
  ]
  const header = ['#', 'timestamp (UTC)', 'temp °C', ...(humidity ? ['RH %'] : []), 'raw temp', ...(humidity ? ['raw RH'] : [])]
  const rows = capture.samples.map((sample, k) => [
    String(k),
    isoSeconds(sample.timestampMs),
    sample.temp.toFixed(2),
    ...(humidity ? [sample.rh!.toFixed(2)] : []),
    String(sample.rawTemp),
    ...(humidity ? [String(sample.rawRh)] : []),
  ])
  lines.push(...table([header, ...rows]))
  return lines.join('\n') + '\n'
}

/** Left-aligned first two columns, right-aligned numbers. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)))
  return rows.map((row) =>
    row.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd(),
  )
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, '0')
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // A closed pipe (`| head`) ends the output, not in a crash.
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

process.exitCode = await main(process.argv.slice(2))
