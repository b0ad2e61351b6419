// npm run bench:auth — req/s of a bare Fastify route, an open route of ours and a protected
// route with a cached key (autocannon, 16 connections, 10 s each). Target: protected ≥ 40 % of bare.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { load, record, stamp, table } from './lib.js'

const server = spawn(process.execPath, ['--import', 'tsx', 'bench/auth-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] })
const line = await new Promise<string>(resolve => { createInterface({ input: server.stdout }).once('line', resolve) })
const { bare, ours, token } = JSON.parse(line) as { bare: string, ours: string, token: string }

try {
  const check = await fetch(`${ours}/api/bench/protected`, { headers: { authorization: `Bearer ${token}` } })
  if (check.status !== 200) throw new Error(`protected route answered ${check.status}`)
  const results = []
  results.push(await load('bare Fastify route', { url: `${bare}/ok` }))
  results.push(await load('open route of ours (GET /api/consumer/v1/version)', { url: `${ours}/api/consumer/v1/version` }))
  results.push(await load('protected route, cached key (RS256 verify + scope check)', { url: `${ours}/api/bench/protected`, headers: { authorization: `Bearer ${token}` } }))
  const ratio = results[2]!.requestsPerSec / results[0]!.requestsPerSec
  const md = `${table(results)}\n\nProtected / bare: **${(ratio * 100).toFixed(0)} %** (target ≥ 40 %).\n\n${stamp('npm run bench:auth')}`
  console.log(md)
  await record('auth', md)
} finally {
  server.kill('SIGTERM')
}
