/**
 * A second baseline: Fastify with defaults and one JSON route (no logger, hooks, auth or
 * storage). The gap between this and `bare` is the framework; between this and
 * Latchkey, Latchkey's own work.
 */
import Fastify from 'fastify'
import { freePort } from '../../test/helpers/ports.js'
import { serveChild } from '../lib/child.js'

export interface FastifyInfo {
  url: string
}

serveChild<FastifyInfo>(async () => {
  const app = Fastify({ logger: false })
  app.post('/v1/auth/authorize', async () => ({ healthy: true }))
  app.get('/', async () => ({ healthy: true }))
  const url = await app.listen({ host: '127.0.0.1', port: await freePort() })
  return { info: { url }, close: () => app.close() }
})
