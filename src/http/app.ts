/**
 * @module http/app
 * The Fastify app: server options (timeouts, limits, request ids), `clientErrorHandler` for
 * malformed HTTP, the JSON body parser, and the three encapsulated scopes (public pages,
 * runtime API behind a runtime key, admin API behind an admin key), plus the demo provider.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import secureJson from 'secure-json-parse'
import type { ProviderAdmin } from '../broker/admin-providers.js'
import type { ApiKeys } from '../broker/api-keys.js'
import type { BrokerContext } from '../broker/context.js'
import type { DashboardSessions } from '../broker/dashboard-sessions.js'
import type { Webhooks } from '../broker/webhooks.js'
import type { DemoIdp } from '../demo/demo-idp.js'
import { LatchkeyError } from '../errors.js'
import { DEMO_IDP_PREFIX } from '../paths.js'
import type { DashboardStore } from '../storage/dashboard-store.js'
import { AuthFailures } from './auth-failures.js'
import { errorHandler } from './error-handler.js'
import { type DashboardGuard, RateLimiter, requireKey } from './guard.js'
import { lazySchemaCompilers } from './lazy-compilers.js'
import { metricsOnPublicPort, metricsRoute } from './metrics-endpoint.js'
import { accountRoutes } from './routes/accounts.js'
import { adminAuditRoutes } from './routes/admin-audit.js'
import { adminBrandingRoutes } from './routes/admin-branding.js'
import { adminConnectionRoutes } from './routes/admin-connections.js'
import { adminDashboardRoutes } from './routes/admin-dashboard.js'
import { adminKeyRoutes } from './routes/admin-keys.js'
import { adminWebhookRoutes } from './routes/admin-webhooks.js'
import { authRoutes } from './routes/auth.js'
import { browserRoutes } from './routes/browser.js'
import { dashboardCookieName, dashboardRoutes } from './routes/dashboard.js'
import { mountDemoIdp } from './routes/demo-idp.js'
import { healthRoutes } from './routes/health.js'
import { mcpRoutes } from './routes/mcp.js'
import { openApiRoutes } from './routes/openapi.js'
import { adminProviderRoutes, providerRoutes } from './routes/providers.js'
import { proxyRoutes } from './routes/proxy.js'

const reqIdPrefix = randomUUID().slice(0, 8)
let reqIdSeq = 0

/** The dashboard's queries (admin API endpoints) and its sessions (absent when the dashboard is switched off). */
export interface DashboardParts {
  sessions: DashboardSessions | undefined
  store: DashboardStore
}

export function buildApp(
  ctx: BrokerContext,
  apiKeys: ApiKeys,
  providerAdmin: ProviderAdmin,
  demo: DemoIdp | undefined,
  dashboard?: DashboardParts,
  webhooks?: Webhooks,
): FastifyInstance {
  const { config } = ctx
  const app = Fastify({
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    // Requests are logged at debug level by our onResponse hook (with secrets redacted).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    routerOptions: { maxParamLength: 200 },
    // Route schemas validate exactly what they say: no type coercion, no defaults, nothing removed.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } },
    // Compiled on first use, not before listening (start-up time).
    schemaController: lazySchemaCompilers(),
    // The request line and headers must arrive within the headers timeout, the whole request
    // within the request timeout; both end once the request has arrived, so a 59 s long-poll is
    // not cut. Node enforces them only when it walks its connection list, every
    // `connectionsCheckingInterval` (30 s by default: a slow client was held ~50 s, not 20 s), so
    // the walk runs at a twentieth of the headers timeout (1 s for 20 s), at most every 1 s.
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(config.http.headersTimeoutMs / 20))),
    },
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Request ids only tie log lines together: a random per-process prefix and a counter.
    genReqId: () => `${reqIdPrefix}${(++reqIdSeq).toString(36)}`,
    // One shared logger instead of a pino child per request (a measurable cost on the hot path);
    // log lines that concern a request carry its id explicitly.
    childLoggerFactory: (logger) => logger,
    // Bad percent-encoding or an over-long path parameter: our `{ name, message }` body, not Fastify's.
    frameworkErrors: (err, request, reply) => errorHandler(err, request, reply),
    // Malformed HTTP, header overflow or a request that did not arrive in time: answer with our
    // `{ name, message }` JSON body instead of Node's bare status line, then close.
    clientErrorHandler: (err, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return
      const [status, reason, name, message] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request did not arrive in time']
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'the request line and headers exceed 16 KiB']
            : [400, 'Bad Request', 'BAD_REQUEST', 'malformed HTTP request']
      const body = JSON.stringify({ name, message })
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
        )
      }
      socket.destroy(err)
    },
  })
  app.server.maxHeadersCount = 100

  // JSON bodies; an empty body with a JSON content type (Arcade's Python SDK on DELETE) is no body.
  // Only JSON bodies: without this, Fastify's built-in text/plain parser lets a string through (a 400, not 415).
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim()
    if (text === '') return done(null, undefined)
    try {
      // secure-json-parse refuses `__proto__` / `constructor.prototype` keys (prototype poisoning).
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }))
    } catch {
      done(Object.assign(new SyntaxError('request body is not valid JSON'), { statusCode: 400 }), undefined)
    }
  })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ name: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })
  app.addHook('onRequest', (request, reply, done) => {
    // No id, state or filter contains NUL, and PostgreSQL cannot compare text with it (an error, not "no match").
    if (request.url.includes('%00')) return done(new LatchkeyError('BAD_REQUEST', 'the URL must not contain a NUL character (%00)'))
    // Token-bearing JSON must never be cached by a proxy or browser (pages set the same).
    void reply.header('cache-control', 'no-store')
    done()
  })
  // Request durations by route pattern and status class: the one per-request addition for
  // metrics, an array increment on series found by the route pattern (see route-durations.ts);
  // Fastify measures elapsedTime anyway.
  const durations = ctx.metrics.durations
  if (ctx.log.isLevelEnabled('debug')) {
    app.addHook('onResponse', (request, reply, done) => {
      durations.observe(request.routeOptions.url, reply.statusCode, reply.elapsedTime)
      request.log.debug({ req: request, res: reply, reqId: request.id, ms: Math.round(reply.elapsedTime) }, 'request')
      done()
    })
  } else {
    app.addHook('onResponse', (request, reply, done) => {
      durations.observe(request.routeOptions.url, reply.statusCode, reply.elapsedTime)
      done()
    })
  }

  const limiter = new RateLimiter(config.rateLimit.perMinute)
  const failures = new AuthFailures(config.authFailuresPerMinute)
  app.register(async (publicScope) => {
    healthRoutes(publicScope, ctx)
    if (metricsOnPublicPort(config)) metricsRoute(publicScope, ctx.metrics.registry, config.metrics.token)
    openApiRoutes(publicScope)
    browserRoutes(publicScope, ctx)
    if (dashboard?.sessions) {
      dashboardRoutes(publicScope, {
        sessions: dashboard.sessions,
        failures,
        publicUrl: config.publicUrl,
        sessionHours: config.dashboard.sessionHours,
      })
    }
    mcpRoutes(publicScope, ctx)
  })
  app.register(async (runtime) => {
    runtime.decorateRequest('apiKey', undefined)
    // Authenticate (and rate-limit) before the body is read or parsed.
    runtime.addHook('onRequest', requireKey(apiKeys, limiter, failures, 'runtime'))
    authRoutes(runtime, ctx)
    accountRoutes(runtime, ctx)
    providerRoutes(runtime, ctx)
  })
  // The proxy: its own scope (an unparsed, streamed body), behind the runtime key and the same per-key limit.
  app.register(async (proxyScope) => {
    proxyScope.decorateRequest('apiKey', undefined)
    proxyScope.addHook('onRequest', requireKey(apiKeys, limiter, failures, 'runtime'))
    proxyRoutes(proxyScope, ctx)
  })
  app.register(async (admin) => {
    admin.decorateRequest('apiKey', undefined)
    admin.decorateRequest('dashboardSession', undefined)
    // The dashboard's session cookie is accepted here only (never on the runtime API's hot path).
    const dashboardGuard: DashboardGuard | undefined = dashboard?.sessions && {
      sessions: dashboard.sessions,
      cookieName: dashboardCookieName(config.publicUrl.startsWith('https:')),
      origin: new URL(config.publicUrl).origin,
    }
    admin.addHook('onRequest', requireKey(apiKeys, limiter, failures, 'admin', dashboardGuard))
    adminConnectionRoutes(admin, ctx)
    adminProviderRoutes(admin, ctx, providerAdmin)
    adminKeyRoutes(admin, ctx, apiKeys)
    adminAuditRoutes(admin, ctx)
    adminBrandingRoutes(admin, ctx)
    if (dashboard) adminDashboardRoutes(admin, ctx, dashboard.store)
    if (webhooks) adminWebhookRoutes(admin, webhooks)
  })
  if (demo) app.register(mountDemoIdp(demo), { prefix: DEMO_IDP_PREFIX })
  return app
}
