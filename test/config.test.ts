import t from 'tap'
import { ConfigError, loadConfig } from '../config.js'

t.test('defaults of SPEC §3', async t => {
  const config = loadConfig({})
  t.equal(config.port, 5000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.audience, 'wsbackend')
  t.equal(config.idpIssuer, null, 'unset: the dev IdP')
  t.match(config.database, { kind: 'pglite' })
  t.ok(config.database.kind === 'pglite' && config.database.dataDir?.endsWith('/data'), 'embedded, in ./data')
  t.same(config.corsOrigins, [])
  t.equal(config.logLevel, 'info')
  t.same(config.scopes, { readUser: 'read:user', writeUser: 'write:user', writeLocations: 'write:locations', adminRead: 'admin:read', adminWrite: 'admin:write' })
})

t.test('values are parsed', async t => {
  const config = loadConfig({
    PORT: '8080', DATABASE_URL: 'postgres://u:p@db:5432/x', IDP_ISSUER: 'https://tenant.eu.auth0.com/',
    CORS_ORIGINS: 'https://app.example, http://localhost:3000', JWT_CLOCK_TOLERANCE_SECONDS: '5', SCOPE_READ_USER: 'wsb:read'
  })
  t.equal(config.port, 8080)
  t.same(config.database, { kind: 'postgres', url: 'postgres://u:p@db:5432/x' })
  t.equal(config.idpIssuer, 'https://tenant.eu.auth0.com/', 'kept exactly, trailing slash and all')
  t.same(config.corsOrigins, ['https://app.example', 'http://localhost:3000'])
  t.equal(config.clockToleranceSeconds, 5)
  t.equal(config.scopes.readUser, 'wsb:read')
  t.same(loadConfig({ DATABASE_URL: 'memory://' }).database, { kind: 'pglite', dataDir: null })
})

t.test('a bad value names the variable', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ PORT: '12a' }, /PORT must be a whole number/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with/],
    [{ IDP_ISSUER: 'not a url' }, /IDP_ISSUER must be an absolute URL/],
    [{ IDP_ISSUER: 'ftp://x/' }, /IDP_ISSUER must be an http\(s\) URL/],
    [{ NODE_ENV: 'production' }, /IDP_ISSUER must be set when NODE_ENV=production/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ CORS_ORIGINS: 'https://a.example/path' }, /CORS_ORIGINS "https:\/\/a.example\/path" is not an origin/],
    [{ SCOPE_ADMIN_READ: 'two words' }, /SCOPE_ADMIN_READ must be a single scope token/],
    [{ JWT_CLOCK_TOLERANCE_SECONDS: '-1' }, /JWT_CLOCK_TOLERANCE_SECONDS must be a whole number/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), message, JSON.stringify(env))
    try { loadConfig(env) } catch (err) { t.ok(err instanceof ConfigError) }
  }
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://user:secret@x' }), { message: /^(?!.*secret)/ }, 'never echoes a database URL')
})
