/**
 * @module http/routes/health
 * Health (unauthenticated). `/metrics` is placed by `http/metrics-endpoint.ts`.
 *
 * - `GET /v1/health/live` — liveness: the process answers HTTP (its event loop runs). No
 *   database call: an outage must not get every replica restarted, which would only drop the
 *   tokens they still serve from memory. For a Kubernetes `livenessProbe`.
 * - `GET /v1/health/ready` — readiness: the database accepts a write (a heartbeat row), so the
 *   process can start flows, store grants and write its audit trail. A full disk, a read-only
 *   file or database, or a stopped server answer 503. For a `readinessProbe` / load balancer.
 * - `GET /v1/health` — Arcade's endpoint (wire doc §10), `{healthy}`: the readiness answer.
 *
 * The write check's result is kept for a second, so frequent probes from many sources cost the
 * database one small write per second per process.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { defineRoute, register } from '../route-spec.js'

/** Arcade's HealthSchema (wire doc §10). */
const health = z
  .object({ healthy: z.boolean(), reason: z.string().optional().meta({ description: 'Why it is unhealthy.' }) })
  .meta({ id: 'Health' })

const readinessResponses = {
  200: { description: 'Ready: the database accepts writes.', schema: health },
  503: { description: 'Not ready: the database is stopped, read-only or full (with `retry-after`).', schema: health },
} as const

export const healthRoute = defineRoute({
  method: 'GET',
  path: '/v1/health',
  operationId: 'health',
  summary: "Arcade's health endpoint: answers like readiness",
  tag: 'health',
  access: 'public',
  responses: readinessResponses,
  errors: [],
})

export const readinessRoute = defineRoute({
  method: 'GET',
  path: '/v1/health/ready',
  operationId: 'healthReady',
  summary: 'Readiness: whether this process can write to its database (for a readinessProbe)',
  tag: 'health',
  access: 'public',
  responses: readinessResponses,
  errors: [],
})

export const livenessRoute = defineRoute({
  method: 'GET',
  path: '/v1/health/live',
  operationId: 'healthLive',
  summary: 'Liveness: the process answers; no database call (for a livenessProbe)',
  tag: 'health',
  access: 'public',
  responses: { 200: { description: 'Alive.', schema: health } },
  errors: [],
})

export const healthRouteSpecs = [healthRoute, readinessRoute, livenessRoute]

const READY_CACHE_MS = 1000

type Readiness = z.infer<typeof health>

export function healthRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  let last: { at: number; result: Readiness } | undefined
  let checking: Promise<Readiness> | undefined

  const check = async (): Promise<Readiness> => {
    try {
      await ctx.store.heartbeat(Date.now())
      return { healthy: true }
    } catch (err) {
      // A connection-level failure is logged once per outage by the store; anything else is news.
      if (!ctx.store.unavailable) ctx.log.error({ err: (err as Error).message }, 'health check: the database does not accept writes')
      return { healthy: false, reason: 'database unavailable: it does not accept writes' }
    }
  }

  const readiness = (): Promise<Readiness> => {
    if (last && last.at + READY_CACHE_MS > Date.now()) return Promise.resolve(last.result)
    checking ??= check()
      .then((result) => {
        last = { at: Date.now(), result }
        return result
      })
      .finally(() => (checking = undefined))
    return checking
  }

  const answer = async (reply: FastifyReply) => {
    const result = await readiness()
    // Arcade's SDKs retry 503; that is right for an outage.
    return result.healthy ? result : reply.status(503).header('retry-after', '2').send(result)
  }

  register(app, healthRoute, (_request, reply) => answer(reply))
  register(app, readinessRoute, (_request, reply) => answer(reply))
  register(app, livenessRoute, () => ({ healthy: true }))
}
