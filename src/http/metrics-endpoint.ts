/**
 * @module http/metrics-endpoint
 * Where `/metrics` is served. `metrics.listen` (`host:port`): on a listener of its own (plain
 * node:http, so scrapes never queue behind API traffic and the port can stay private), not on the
 * public port. `metrics.token`: a scrape must send `Authorization: Bearer <token>`, wherever it is
 * served. With neither, it is served openly on the public port in development, and not at all
 * with NODE_ENV=production (the series describe the whole installation; a start warning says how
 * to turn it on).
 */
import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config.js'
import { constantTimeEqual } from '../crypto/api-keys.js'

/** Whether `/metrics` goes on the public port: no listener of its own, and a token or not production. */
export function metricsOnPublicPort(config: Config): boolean {
  return config.metrics.listen === undefined && (config.metrics.token !== undefined || !config.production)
}

/** The start warning when production serves no metrics at all; undefined otherwise. */
export function metricsWarning(config: Config): string | undefined {
  if (!config.production || config.metrics.listen !== undefined || config.metrics.token !== undefined) return undefined
  return '/metrics is not served: with NODE_ENV=production set LATCHKEY_METRICS_LISTEN (e.g. 127.0.0.1:9464, a private port) or LATCHKEY_METRICS_TOKEN (a bearer token scrapes must send)'
}

const authorized = (token: string | undefined, header: string | undefined) =>
  token === undefined || (header?.startsWith('Bearer ') === true && constantTimeEqual(header.slice(7), token))

const UNAUTHORIZED = JSON.stringify({ name: 'UNAUTHENTICATED', message: 'metrics need Authorization: Bearer <LATCHKEY_METRICS_TOKEN>' })

export function metricsRoute(app: FastifyInstance, registry: Registry, token: string | undefined): void {
  app.get('/metrics', async (request, reply) => {
    if (!authorized(token, request.headers.authorization)) return reply.status(401).type('application/json').send(UNAUTHORIZED)
    void reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
}

/** The listener of its own; resolves with its address once it listens. */
export async function startMetricsListener(
  listen: string,
  registry: Registry,
  token: string | undefined,
): Promise<{ server: Server; url: string }> {
  const at = listen.lastIndexOf(':')
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '') || '0.0.0.0'
  const port = Number(listen.slice(at + 1))
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ name: 'NOT_FOUND', message: 'only GET /metrics is served here' }))
      return
    }
    if (!authorized(token, req.headers.authorization)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(UNAUTHORIZED)
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  server.headersTimeout = 10_000
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics` }
}
