import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { startDevIdp, type DevIdp } from './plugins/dev-idp.js'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(err.message)
  process.exit(1)
}

let devIdp: DevIdp | null = null
if (config.idpIssuer === null) devIdp = await startDevIdp({ port: config.devIdpPort, audience: config.audience })

const app = await buildApp({
  config: { ...config, idpIssuer: config.idpIssuer ?? devIdp!.issuer },
  ...(devIdp !== null ? { tokenUrl: devIdp.tokenUrl } : {})
})

if (devIdp !== null) {
  app.log.warn(
    `DEVELOPMENT IDENTITY PROVIDER at ${devIdp.issuer} — IDP_ISSUER is unset, so tokens from this built-in ` +
    `mock are accepted. Get one with: npm run token -- --scope "${config.scopes.readUser} ${config.scopes.writeUser}". ` +
    'Never run like this in production (NODE_ENV=production refuses to).'
  )
}

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
  await devIdp?.stop()
})

try {
  await app.listen({ port: config.port, host: config.host })
  app.log.info(`Swagger UI: http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(app.server.address() as { port: number }).port}/docs`)
} catch (err) {
  app.log.error({ err }, 'could not start')
  await app.close()
  await devIdp?.stop()
  process.exit(1)
}
