import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { openApiYaml, PLACEHOLDER_TOKEN_URL } from '../scripts/openapi-document.js'
import { buildTestApp, startIdp } from './helpers.js'

interface Operation { security?: Array<Record<string, string[]>> }

t.test('the OpenAPI document', async t => {
  const idp = await startIdp()
  const ctx = await buildTestApp(idp, {}, PLACEHOLDER_TOKEN_URL)
  t.teardown(async () => { await ctx.close(); await idp.stop() })
  const yaml = openApiYaml(ctx.app)
  const doc = parse(yaml) as { paths: Record<string, Record<string, Operation>>, components: { securitySchemes: Record<string, unknown> } }

  t.test('documentation and enforcement agree: documented security ⇔ 401 without a token', async t => {
    let secured = 0
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path.startsWith('/docs')) continue
      for (const [method, op] of Object.entries(methods)) {
        const url = path.replace(/\{[^}]+\}/g, '1')
        const res = await ctx.app.inject({ method: method.toUpperCase() as 'GET', url, ...(method === 'get' || method === 'delete' ? {} : { payload: {} }) })
        if (op.security !== undefined) {
          secured++
          t.equal(res.statusCode, 401, `${method.toUpperCase()} ${path} is guarded`)
          t.ok(op.security.length > 0 && op.security.every(req => Object.values(req).every(scopes => scopes.length > 0)), `${method.toUpperCase()} ${path} names its scopes`)
        } else {
          t.not(res.statusCode, 401, `${method.toUpperCase()} ${path} is open`)
        }
      }
    }
    t.ok(secured >= 3, `${secured} secured operations`)
    t.same(doc.paths['/api/consumer/v1/me']?.get?.security, [{ bearerAuth: ['read:user'] }, { oauth2: ['read:user'] }])
    t.ok(doc.components.securitySchemes.bearerAuth)
    t.ok(doc.components.securitySchemes.oauth2)
  })

  t.test('every guarded route in the app is documented with security', async t => {
    const res = await ctx.app.inject({ url: '/docs/json' })
    t.equal(res.statusCode, 200)
    t.same(res.json().paths, JSON.parse(JSON.stringify(doc.paths)), '/docs/json serves the same document')
  })

  t.test('openapi.yaml in the repository is up to date (npm run openapi)', async t => {
    const committed = await readFile(new URL('../openapi.yaml', import.meta.url), 'utf8')
    t.equal(committed, yaml, 'regenerate with `npm run openapi` and commit')
  })

  t.test('Swagger UI is served at /docs', async t => {
    const res = await ctx.app.inject({ url: '/docs/' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /text\/html/)
    const script = await ctx.app.inject({ url: '/docs/static/swagger-ui-bundle.js' })
    t.equal(script.statusCode, 200)
  })
})
