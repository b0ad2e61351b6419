import type { FastifyInstance, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { isGuarded } from './auth.js'

/**
 * Fail closed: every route whose schema declares `security` must carry the auth guard by the
 * time the server is ready, or start-up fails. Registered at the root before anything else, so
 * it sees every route — including routes registered where the auth plugin is not.
 */
export default fp(async function securityAudit (app: FastifyInstance) {
  const declared: RouteOptions[] = []
  app.addHook('onRoute', route => {
    if ((route.schema as { security?: unknown } | undefined)?.security !== undefined) declared.push(route)
  })
  app.addHook('onReady', async () => {
    const open = declared.filter(route => !isGuarded(route))
    if (open.length > 0) {
      const list = open.map(route => `${String(route.method)} ${route.url}`).join(', ')
      throw new Error(`Routes declare security but are not guarded by the auth plugin: ${list}`)
    }
  })
}, { name: 'security-audit', fastify: '5.x' })
