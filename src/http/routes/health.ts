/**
 * @module http/routes/health
 * `GET /v1/health` (unauthenticated, wire doc §10). `/metrics` is placed by `http/metrics-endpoint.ts`.
 */
import type { FastifyInstance } from 'fastify'
import type { BrokerContext } from '../../broker/context.js'

export function healthRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  app.get('/v1/health', async (_request, reply) => {
    try {
      await ctx.store.ping()
      return { healthy: true }
    } catch (err) {
      ctx.log.error({ err }, 'health check: database unavailable')
      // Arcade's SDKs retry 503; that is right for an outage.
      return reply.status(503).send({ healthy: false, reason: 'database unavailable' })
    }
  })
}
