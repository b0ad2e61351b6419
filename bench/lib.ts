import { execSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import autocannon from 'autocannon'

export interface LoadResult {
  name: string
  requestsPerSec: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  total: number
}

export async function load (name: string, options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ connections: 16, duration: 10, ...options })
  return {
    name,
    requestsPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total
  }
}

export function machine (): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  let pg = ''
  try { pg = execSync('psql --version', { encoding: 'utf8' }).trim() } catch { /* not installed */ }
  return `${cpus().length} × ${cpu}, Node ${process.version}${pg === '' ? '' : `, ${pg}`}`
}

export function table (results: LoadResult[]): string {
  const rows = results.map(r => `| ${r.name} | ${r.requestsPerSec} | ${r.p50} | ${r.p99} | ${r.non2xx + r.errors} |`)
  return ['| case | req/s | p50 ms | p99 ms | non-2xx + errors |', '|---|---:|---:|---:|---:|', ...rows].join('\n')
}

/** Replaces the block between `<!-- bench:NAME -->` markers in docs/performance.md (appends it if absent). */
export async function record (name: string, markdown: string): Promise<void> {
  const file = new URL('../docs/performance.md', import.meta.url)
  let doc = ''
  try { doc = await readFile(file, 'utf8') } catch { doc = '# Performance\n' }
  const start = `<!-- bench:${name} -->`
  const end = `<!-- /bench:${name} -->`
  const block = `${start}\n${markdown.trim()}\n${end}`
  const i = doc.indexOf(start)
  const j = doc.indexOf(end)
  doc = i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${block}\n`
  await writeFile(file, doc)
}

export function stamp (command: string): string {
  return `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()} with \`${command}\`.`
}

export interface BenchServer {
  bare: string
  ours: string
  userToken: string
  adminToken: string
  stop: () => void
}

/** Starts bench/server.ts in a child process (env: DATABASE_URL and friends). */
export async function startBenchServer (env: Record<string, string> = {}): Promise<BenchServer> {
  const { spawn } = await import('node:child_process')
  const { createInterface } = await import('node:readline')
  // BENCH_NODE_ARGS: extra flags for the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(a => a !== '')
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bench/server.ts'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', code => { reject(new Error(`bench server exited with ${code}`)) })
  })
  return { ...(JSON.parse(line) as Omit<BenchServer, 'stop'>), stop: () => { child.kill('SIGTERM') } }
}
