import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'

// The zero-setup default of SPEC §3, run as a newcomer would: `npm start`, then `npm run token`.

const root = path.resolve(import.meta.dirname, '..')

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
    server.on('error', reject)
  })
}

async function waitFor (url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    try {
      if ((await fetch(url)).ok) return
    } catch { /* not up yet */ }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`${url} not up after ${timeoutMs} ms`)
}

t.test('npm start with nothing configured: embedded database, dev IdP, Swagger UI, tokens from npm run token', async t => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wsbackend-start-'))
  const port = await freePort()
  const idpPort = await freePort()
  const env = { ...process.env, PORT: String(port), DEV_IDP_PORT: String(idpPort), DATABASE_URL: `file://${dataDir}`, IDP_ISSUER: '', NODE_ENV: '' }
  const child = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout.on('data', chunk => { output += String(chunk) })
  child.stderr.on('data', chunk => { output += String(chunk) })
  t.teardown(async () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
  })

  const base = `http://127.0.0.1:${port}`
  await waitFor(`${base}/ready`, child, 90_000)
  t.match(output, /DEVELOPMENT IDENTITY PROVIDER/, 'says loudly that the dev IdP is in use')
  t.match(output, /npm run token/, 'and how to get a token')

  const docs = await fetch(`${base}/docs/`)
  t.equal(docs.status, 200, 'Swagger UI at /docs')
  const spec = await (await fetch(`${base}/docs/json`)).json() as { components: { securitySchemes: { oauth2: { flows: { clientCredentials: { tokenUrl: string } } } } } }
  t.equal(spec.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl, `http://127.0.0.1:${idpPort}/token`, 'Authorize goes to the dev IdP')

  const token = spawnSync('npm', ['run', '-s', 'token', '--', '--scope', 'read:user write:user', '--sub', 'dev|newcomer'], { cwd: root, env, encoding: 'utf8' })
  t.equal(token.status, 0, token.stderr)
  const accessToken = token.stdout.trim()
  t.match(accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'prints a JWT')
  const headers = { authorization: `Bearer ${accessToken}` }
  const created = await fetch(`${base}/api/consumer/v1/users`, { method: 'POST', headers })
  t.equal(created.status, 201, 'the server accepts it')
  const me = await (await fetch(`${base}/api/consumer/v1/me`, { headers })).json() as { oauth_id: string, userinfo: { sub: string } }
  t.equal(me.oauth_id, 'dev|newcomer')
  t.equal(me.userinfo.sub, 'dev|newcomer')

  // Swagger UI's Authorize: client credentials straight from the browser to the dev IdP
  const cc = await fetch(`http://127.0.0.1:${idpPort}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('swagger:secret').toString('base64')}`, origin: base },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read:user' })
  })
  t.equal(cc.status, 200)
  t.ok(cc.headers.get('access-control-allow-origin'), 'the dev IdP allows the browser call')
  const ccToken = (await cc.json() as { access_token: string }).access_token
  const meCc = await fetch(`${base}/api/consumer/v1/me`, { headers: { authorization: `Bearer ${ccToken}` } })
  t.equal(meCc.status, 404, 'a client-credentials token is accepted (that client is not a registered user)')

  // SIGTERM to the server process itself (npm does not forward it); npm then exits with its code
  const serverPid = Number(/"pid":(\d+)/.exec(output)?.[1])
  t.ok(serverPid > 0, 'the log names the server pid')
  const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
  process.kill(serverPid, 'SIGTERM')
  t.equal(await exited, 0, 'SIGTERM: graceful shutdown, exit 0')
  t.match(output, /shutting down/)
  t.notMatch(output, accessToken.split('.')[2]!, 'the token never appears in the output')
})

t.test('NODE_ENV=production without IDP_ISSUER refuses to start, naming the variable', async t => {
  const res = spawnSync('npx', ['tsx', 'server.ts'], { cwd: root, env: { ...process.env, NODE_ENV: 'production', IDP_ISSUER: '', DATABASE_URL: 'memory://' }, encoding: 'utf8', timeout: 60_000 })
  t.equal(res.status, 1)
  t.match(res.stderr, /IDP_ISSUER/)
})

t.test('a bad configuration value stops start-up with a message naming it', async t => {
  const res = spawnSync('npx', ['tsx', 'server.ts'], { cwd: root, env: { ...process.env, PORT: 'eighty', DATABASE_URL: 'memory://' }, encoding: 'utf8', timeout: 60_000 })
  t.equal(res.status, 1)
  t.match(res.stderr, /PORT must be a whole number from 0 to 65535, got "eighty"/)
})
