/**
 * @module http/app
 * The Fastify app: server options (timeouts, limits, request ids), `clientErrorHandler` for
 * malformed HTTP, the JSON body parser, and the three encapsulated scopes (public pages,
 * runtime API behind a runtime key, admin API behind an admin key), plus the demo provider.
 */
import { createServer, type Server, type ServerOptions } from 'node:http'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
  type onRequestHookHandler,
  type onResponseHookHandler,
} from 'fastify'
import secureJson from 'secure-json-parse'
import type { ProviderAdmin } from '../broker/admin-providers.js'
import type { ApiKeys } from '../broker/api-keys.js'
import type { BrokerContext } from '../broker/context.js'
import type { DashboardSessions } from '../broker/dashboard-sessions.js'
import { preparedAnswer } from '../broker/flows.js'
import type { Webhooks } from '../broker/webhooks.js'
import type { DemoIdp } from '../demo/demo-idp.js'
import { LatchkeyError } from '../errors.js'
import { DEMO_IDP_PREFIX } from '../paths.js'
import type { DashboardStore } from '../storage/dashboard-store.js'
import { AuthFailures } from './auth-failures.js'
import { errorHandler } from './error-handler.js'
import { type Handler, withFastAuthorize } from './fast-authorize.js'
import { type DashboardGuard, RateLimiter, requireKey } from './guard.js'
import { AJV_OPTIONS, lazySchemaCompilers } from './lazy-compilers.js'
import { metricsOnPublicPort, metricsRoute } from './metrics-endpoint.js'
import { nextRequestId } from './request-id.js'
import { accountRoutes } from './routes/accounts.js'
import { adminAuditRoutes } from './routes/admin-audit.js'
import { adminBrandingRoutes } from './routes/admin-branding.js'
import { adminConnectionRoutes } from './routes/admin-connections.js'
import { adminDashboardRoutes } from './routes/admin-dashboard.js'
import { adminKeyRoutes } from './routes/admin-keys.js'
import { adminWebhookRoutes } from './routes/admin-webhooks.js'
import { authorizeBodySchema, authorizeRoute, authRoutes } from './routes/auth.js'
import { browserRoutes } from './routes/browser.js'
import { dashboardCookieName, dashboardRoutes } from './routes/dashboard.js'
import { mountDemoIdp } from './routes/demo-idp.js'
import { healthRoutes } from './routes/health.js'
import { mcpRoutes } from './routes/mcp.js'
import { openApiRoutes } from './routes/openapi.js'
import { adminProviderRoutes, providerRoutes } from './routes/providers.js'
import { proxyRoutes } from './routes/proxy.js'
import { JSON_PARSE_OPTIONS } from './schema.js'

/** The dashboard's queries (admin API endpoints) and its sessions (absent when the dashboard is switched off). */
export interface DashboardParts {
  sessions: DashboardSessions | undefined
  store: DashboardStore
}

export interface AppOptions {
  /** Answer a connected user's authorize before Fastify (`fast-authorize.ts`); default true. Tests compare both. */
  fastPaths?: boolean
}

export function buildApp(
  ctx: BrokerContext,
  apiKeys: ApiKeys,
  providerAdmin: ProviderAdmin,
  demo: DemoIdp | undefined,
  dashboard?: DashboardParts,
  webhooks?: Webhooks,
  options: AppOptions = {},
): FastifyInstance {
  const { config } = ctx
  const limiter = new RateLimiter(config.rateLimit.perMinute)
  const failures = new AuthFailures(config.authFailuresPerMinute)
  const durations = ctx.metrics.durations
  const debug = ctx.log.isLevelEnabled('debug')
  let closing = false
  const fast = options.fastPaths !== false
  const app = Fastify({
    ...(fast && {
      serverFactory: (handler: Handler, opts: FastifyServerOptions & { http?: ServerOptions }) =>
        httpServer(
          opts,
          withFastAuthorize(
            {
              prepared: (input, actor) => preparedAnswer(ctx, input, actor),
              log: ctx.log,
              apiKeys,
              limiter,
              bodyLimit: config.bodyLimitBytes,
              bodySchema: authorizeBodySchema,
              record: durations.recorder(authorizeRoute.path),
              closing: () => closing,
              debug,
              trustProxy: config.trustProxy,
            },
            handler,
          ),
        ),
    }),
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    // Requests are logged at debug level by our onResponse hook (with secrets redacted).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    routerOptions: { maxParamLength: 200 },
    ajv: AJV_OPTIONS,
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
    genReqId: nextRequestId,
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
      done(null, secureJson.parse(text, undefined, JSON_PARSE_OPTIONS))
    } catch {
      done(Object.assign(new SyntaxError('request body is not valid JSON'), { statusCode: 400 }), undefined)
    }
  })
  app.setErrorHandler(errorHandler)

  // What every request checks first. Each request runs one onRequest hook: the API scopes'
  // key guard does this too (`guarded`), the other scopes and the 404 handler run it alone, so
  // the hot path does not pay a second hook.
  const common = (request: FastifyRequest, reply: FastifyReply): Error | undefined => {
    // No id, state or filter contains NUL, and PostgreSQL cannot compare text with it (an error, not "no match").
    if (request.url.includes('%00')) return new LatchkeyError('BAD_REQUEST', 'the URL must not contain a NUL character (%00)')
    // Token-bearing JSON must never be cached by a proxy or browser (pages set the same).
    void reply.header('cache-control', 'no-store')
    return undefined
  }
  const commonHook: onRequestHookHandler = (request, reply, done) => done(common(request, reply))
  const guarded = (guard: onRequestHookHandler): onRequestHookHandler =>
    function (request, reply, done) {
      const err = common(request, reply)
      if (err) return done(err)
      guard.call(this, request, reply, done)
    }

  // Request durations by route pattern and status class: the one per-request addition for
  // metrics, an array increment on the route's series (see route-durations.ts), found once per
  // route here rather than per request (Fastify's request.routeOptions builds an object on
  // every access); Fastify measures elapsedTime anyway.
  const onResponseFor = (route: string | undefined): onResponseHookHandler => {
    const record = durations.recorder(route)
    if (!debug) {
      return (_request, reply, done) => {
        record(reply.statusCode, reply.elapsedTime)
        done()
      }
    }
    // Requests are logged at debug level (with secrets redacted).
    return (request, reply, done) => {
      record(reply.statusCode, reply.elapsedTime)
      request.log.debug({ req: request, res: reply, reqId: request.id, ms: Math.round(reply.elapsedTime) }, 'request')
      done()
    }
  }
  app.addHook('onRoute', (route) => {
    const own = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]
    route.onResponse = [...own, onResponseFor(route.url)]
  })
  // The 404 handler's context takes lifecycle hooks from its options like a route (Fastify's
  // four-oh-four.js concatenates every lifecycle hook given here; its types name two).
  const notFoundOptions = { onRequest: commonHook, onResponse: onResponseFor(undefined) } as unknown as Parameters<
    typeof app.setNotFoundHandler
  >[0]
  app.setNotFoundHandler(notFoundOptions, (request, reply) => {
    void reply.status(404).send({ name: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })

  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  app.register(async (publicScope) => {
    publicScope.addHook('onRequest', commonHook)
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
    runtime.addHook('onRequest', guarded(requireKey(apiKeys, limiter, failures, 'runtime')))
    authRoutes(runtime, ctx)
    accountRoutes(runtime, ctx)
    providerRoutes(runtime, ctx)
  })
  // The proxy: its own scope (an unparsed, streamed body), behind the runtime key and the same per-key limit.
  app.register(async (proxyScope) => {
    proxyScope.decorateRequest('apiKey', undefined)
    proxyScope.addHook('onRequest', guarded(requireKey(apiKeys, limiter, failures, 'runtime')))
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
    admin.addHook('onRequest', guarded(requireKey(apiKeys, limiter, failures, 'admin', dashboardGuard)))
    adminConnectionRoutes(admin, ctx)
    adminProviderRoutes(admin, ctx, providerAdmin)
    adminKeyRoutes(admin, ctx, apiKeys)
    adminAuditRoutes(admin, ctx)
    adminBrandingRoutes(admin, ctx)
    if (dashboard) adminDashboardRoutes(admin, ctx, dashboard.store)
    if (webhooks) adminWebhookRoutes(admin, webhooks)
  })
  if (demo) {
    app.register(
      async (demoScope) => {
        demoScope.addHook('onRequest', commonHook)
        await demoScope.register(mountDemoIdp(demo))
      },
      { prefix: DEMO_IDP_PREFIX },
    )
  }
  return app
}

/** What Fastify does with its server options when it creates the HTTP server itself (`fastify/lib/server.js`). */
function httpServer(opts: FastifyServerOptions & { http?: ServerOptions }, handler: Handler): Server {
  const server = createServer(opts.http ?? {}, handler)
  server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000
  server.requestTimeout = opts.requestTimeout ?? 0
  server.setTimeout(opts.connectionTimeout ?? 0)
  if ((opts.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket!
  return server
}
