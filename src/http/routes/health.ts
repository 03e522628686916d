/**
 * @module http/routes/health
 * `GET /v1/health` (unauthenticated, wire doc §10) and `GET /metrics` (Prometheus).
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { defineRoute, register } from '../route-spec.js'

/** Arcade's HealthSchema (wire doc §10). */
const health = z.object({ healthy: z.boolean(), reason: z.string().optional().meta({ description: 'Why it is unhealthy.' }) }).meta({ id: 'Health' })

export const healthRoute = defineRoute({
  method: 'GET',
  path: '/v1/health',
  operationId: 'health',
  summary: 'Whether this process can serve (its database answers)',
  tag: 'health',
  access: 'public',
  responses: {
    200: { description: 'Healthy.', schema: health },
    503: { description: 'Unhealthy (the database does not answer).', schema: health },
  },
  errors: [],
})

export const healthRouteSpecs = [healthRoute]

export function healthRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(app, healthRoute, async (_request, reply) => {
    try {
      await ctx.store.ping()
      return { healthy: true }
    } catch (err) {
      ctx.log.error({ err }, 'health check: database unavailable')
      // Arcade's SDKs retry 503; that is right for an outage.
      return reply.status(503).send({ healthy: false, reason: 'database unavailable' } satisfies z.infer<typeof health>)
    }
  })

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', ctx.metrics.registry.contentType)
    return ctx.metrics.registry.metrics()
  })
}
