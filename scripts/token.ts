// Prints an access token from the development IdP that `npm start` runs (IDP_ISSUER unset).
//   npm run token -- --scope "read:user write:user" [--sub "google-oauth2|123"] [--aud wsbackend]
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'

const { values } = parseArgs({
  options: {
    scope: { type: 'string', default: '' },
    sub: { type: 'string' },
    aud: { type: 'string' },
    issuer: { type: 'string' }
  }
})

const config = loadConfig()
const issuer = values.issuer ?? config.idpIssuer ?? `http://127.0.0.1:${config.devIdpPort}`
// A user token comes from the password grant (the mock makes `username` the subject); without
// --sub, a client-credentials token, whose subject is "<client>@clients" as with Auth0.
const form = new URLSearchParams(values.sub !== undefined
  ? { grant_type: 'password', username: values.sub, password: 'dev' }
  : { grant_type: 'client_credentials', client_id: 'dev-cli' })
if (values.scope !== '') form.set('scope', values.scope)
form.set('aud', values.aud ?? config.audience)

let response: Response
try {
  response = await fetch(`${issuer}/token`, { method: 'POST', body: form })
} catch {
  console.error(`No development IdP at ${issuer}. Start the server first (npm start, with IDP_ISSUER unset).`)
  process.exit(1)
}
const body = await response.json() as { access_token?: string }
if (!response.ok || body.access_token === undefined) {
  console.error(`The IdP at ${issuer} answered ${response.status}: ${JSON.stringify(body)}`)
  process.exit(1)
}
console.log(body.access_token)
