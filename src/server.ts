/**
 * @module server
 * `createLatchkey(config)`: opens storage, checks the encryption keys, loads providers, builds
 * the HTTP app (public pages, runtime API, admin API, optional demo provider) and the
 * background jobs. The CLI's `serve` and the tests both start Latchkey through here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { randomBytes, randomUUID } from 'node:crypto'
import secureJson from 'secure-json-parse'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { ConfigError } from './config.js'
import { Keyring } from './crypto/keyring.js'
import { createLogger } from './log.js'
import { createMetrics } from './metrics.js'
import { type Fetch, type Outbound, createOutbound } from './oauth/http.js'
import { OutboundGuard, type ResolveHost } from './oauth/outbound-guard.js'
import { catalog } from './providers/catalog.js'
import { demoDefinition } from './providers/demo.js'
import { loadProviders } from './providers/registry.js'
import { openStore } from './storage/open-store.js'
import type { KyselyStore } from './storage/kysely-store.js'
import { AuditLog } from './broker/audit.js'
import { ApiKeys } from './broker/api-keys.js'
import { ProviderAdmin } from './broker/admin-providers.js'
import { BackgroundRefresher } from './broker/background-refresh.js'
import type { BrokerContext } from './broker/context.js'
import { Refresher } from './broker/refresher.js'
import { ConnectionCache } from './broker/connection-cache.js'
import { Vault } from './broker/vault.js'
import { KeyAnnouncer } from './broker/process-keys.js'
import { FlowWaiters } from './broker/waiters.js'
import type { DemoIdp } from './demo/demo-idp.js'
import { errorHandler } from './http/error-handler.js'
import { LatchkeyError } from './errors.js'
import { RateLimiter, requireKey } from './http/guard.js'
import { adminAuditRoutes } from './http/routes/admin-audit.js'
import { adminConnectionRoutes } from './http/routes/admin-connections.js'
import { adminKeyRoutes } from './http/routes/admin-keys.js'
import { authRoutes } from './http/routes/auth.js'
import { browserRoutes } from './http/routes/browser.js'
import { healthRoutes } from './http/routes/health.js'
import { adminProviderRoutes, providerRoutes } from './http/routes/providers.js'
import { mountDemoIdp } from './http/routes/demo-idp.js'

export interface LatchkeyOptions {
  logger?: Logger
  /** Outbound fetch for provider calls (tests inject one to count or fail calls). */
  fetch?: Fetch
  /** Name resolution for outbound requests (tests map a name to 127.0.0.1). */
  resolve?: ResolveHost
  /** Create and return an admin key when the database has none (default true; the CLI's offline commands say false). */
  bootstrapApiKey?: boolean
}

export interface Latchkey {
  app: FastifyInstance
  ctx: BrokerContext
  store: KyselyStore
  apiKeys: ApiKeys
  /** Set on the first start of a fresh database: the admin key, to print once. */
  initialApiKey: string | undefined
  /** Warnings to show at start (dev key file, verification off, …). */
  warnings: string[]
  demo: DemoIdp | undefined
  background: BackgroundRefresher
  /** Providers managed through the admin API (`loadAll` is the periodic resync). */
  providerAdmin: ProviderAdmin
  listen(): Promise<string>
  close(): Promise<void>
}

export async function createLatchkey(config: Config, options: LatchkeyOptions = {}): Promise<Latchkey> {
  const log = options.logger ?? createLogger(config.logLevel)
  const warnings: string[] = []
  const keyring = loadKeyring(config, warnings)
  if (config.production && (config.verification.mode === 'skip' || config.dev)) {
    throw new ConfigError(
      config.dev
        ? '--dev (the demo OAuth provider accepts any password) cannot run with NODE_ENV=production'
        : 'LATCHKEY_VERIFICATION=skip cannot run with NODE_ENV=production: anyone holding a link could attach their account to your users',
    )
  }
  if (config.verification.mode === 'skip') {
    warnings.push('User verification is OFF (LATCHKEY_VERIFICATION=skip): anyone holding an authorization link can attach their account to your user. Development only.')
  }

  const store = openStore({ url: config.databaseUrl, poolSize: config.databasePoolSize, onBridgeError: (err) => log.warn({ err: err.message }, 'event listener connection lost; reconnecting') })
  try {
    await store.migrate()
    await checkKeyFingerprints(store, keyring)
    const announcer = new KeyAnnouncer(store, keyring, (err) => log.warn({ err: err.message }, 'could not announce this process\'s encryption keys'))
    await announcer.start()
    try {
      return await assemble(config, options, log, warnings, keyring, store, announcer)
    } catch (err) {
      await announcer.close()
      throw err
    }
  } catch (err) {
    // Nothing half-started is left behind (on PostgreSQL: the pool and the LISTEN connection).
    await store.close().catch(() => {})
    throw err
  }
}

async function assemble(config: Config, options: LatchkeyOptions, log: Logger, warnings: string[], keyring: Keyring, store: KyselyStore, announcer: KeyAnnouncer): Promise<Latchkey> {

  const outbound = buildOutbound(config, options)
  const registry = loadProviders({
    guard: outbound.guard,
    catalog,
    entries: config.providerEntries,
    envProviders: config.envProviders,
    configFile: config.configFile,
    allowInsecureLoopback: config.allowInsecureLoopbackProviders,
  })

  let demo: DemoIdp | undefined
  if (config.dev) {
    const issuer = `${config.publicUrl}/demo-idp`
    const secret = randomBytes(24).toString('base64url')
    // Loaded only in dev mode: oidc-provider is a development dependency of the demo alone.
    const { createDemoIdp } = await import('./demo/demo-idp.js')
    demo = createDemoIdp({ issuer, clients: [{ client_id: 'latchkey-demo', client_secret: secret, redirect_uris: [`${config.publicUrl}/oauth/callback`] }] })
    const def = demoDefinition(issuer)
    registry.set({
      id: 'demo',
      type: 'demo',
      description: def.displayName,
      enabled: true,
      source: 'demo',
      clientId: 'latchkey-demo',
      clientSecret: secret,
      settings: {},
      def,
      refreshEnabled: true,
      entry: { id: 'demo' },
    })
  }

  const metrics = createMetrics()
  const audit = new AuditLog(store, log)
  const base = {
    config,
    store,
    vault: new Vault(keyring, (version) => {
      recordKeyVersion(store, keyring, version).catch((err: Error) => log.error({ err: err.message }, 'could not record the encryption key fingerprint'))
    }),
    registry,
    log,
    http: { timeoutMs: config.providerTimeoutMs, outbound, ...(options.fetch ? { fetch: options.fetch } : {}) },
    metrics,
    audit,
    waiters: new FlowWaiters(store),
    redirectUri: `${config.publicUrl}/oauth/callback`,
  }
  const ctx: BrokerContext = { ...base, refresher: new Refresher(base), connections: new ConnectionCache(store) }
  const apiKeys = new ApiKeys(store)
  const providerAdmin = new ProviderAdmin(ctx)
  await providerAdmin.loadAll()
  providerAdmin.startResync()

  let initialApiKey: string | undefined
  if (options.bootstrapApiKey !== false && (await store.listApiKeys()).length === 0) {
    initialApiKey = (await apiKeys.create({ name: 'initial admin key', role: 'admin' })).key
  }

  const app = buildApp(ctx, apiKeys, providerAdmin, demo)
  const background = new BackgroundRefresher(ctx)
  if (config.backgroundRefresh.enabled) background.start()
  const cleanup = setInterval(() => {
    store.deleteExpiredFlows(Date.now() - 86_400_000).catch((err: unknown) => log.warn({ err }, 'flow cleanup failed'))
  }, 3_600_000)
  cleanup.unref()

  let closed = false
  return {
    app,
    ctx,
    store,
    apiKeys,
    initialApiKey,
    warnings,
    demo,
    background,
    providerAdmin,
    async listen() {
      return app.listen({ host: config.host, port: config.port })
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(cleanup)
      await background.stop()
      ctx.waiters.close()
      ctx.connections.close()
      await app.close()
      await audit.flush()
      apiKeys.close()
      providerAdmin.close()
      await announcer.close()
      await store.close()
      await outbound.dispatcher.close()
    },
  }
}

/** The SSRF guard and connection pool; a bad allow-list entry is a configuration error. */
function buildOutbound(config: Config, options: LatchkeyOptions): Outbound {
  for (const entry of config.outbound.allowPrivate) {
    try {
      OutboundGuard.validate(entry)
    } catch (err) {
      throw new ConfigError(`outbound.allow_private (or LATCHKEY_OUTBOUND_ALLOW_PRIVATE): ${(err as Error).message}`)
    }
  }
  return createOutbound({ ...config.outbound, ...(options.resolve ? { resolve: options.resolve } : {}) })
}

const reqIdPrefix = randomUUID().slice(0, 8)
let reqIdSeq = 0

function buildApp(ctx: BrokerContext, apiKeys: ApiKeys, providerAdmin: ProviderAdmin, demo: DemoIdp | undefined): FastifyInstance {
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
    // Long-polls last up to 59 s; a request must arrive whole within 30 s.
    requestTimeout: 30_000,
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
        socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`)
      }
      socket.destroy(err)
    },
  })
  app.server.maxHeadersCount = 100
  app.server.headersTimeout = 20_000

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
  if (ctx.log.isLevelEnabled('debug')) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug({ req: request, res: reply, reqId: request.id, ms: Math.round(reply.elapsedTime) }, 'request')
      done()
    })
  }

  const limiter = new RateLimiter(config.rateLimit.perMinute)
  app.register(async (publicScope) => {
    healthRoutes(publicScope, ctx)
    browserRoutes(publicScope, ctx)
  })
  app.register(async (runtime) => {
    runtime.decorateRequest('apiKey', undefined)
    // Authenticate (and rate-limit) before the body is read or parsed.
    runtime.addHook('onRequest', requireKey(apiKeys, limiter, 'runtime'))
    authRoutes(runtime, ctx)
    providerRoutes(runtime, ctx)
  })
  app.register(async (admin) => {
    admin.decorateRequest('apiKey', undefined)
    admin.addHook('onRequest', requireKey(apiKeys, limiter, 'admin'))
    adminConnectionRoutes(admin, ctx)
    adminProviderRoutes(admin, ctx, providerAdmin)
    adminKeyRoutes(admin, ctx, apiKeys)
    adminAuditRoutes(admin, ctx)
  })
  if (demo) app.register(mountDemoIdp(demo), { prefix: '/demo-idp' })
  return app
}

/** The configured keys, or in development a key file generated on first run (never in production). */
function loadKeyring(config: Config, warnings: string[]): Keyring {
  if (config.encryptionKeys) {
    try {
      return Keyring.parse(config.encryptionKeys)
    } catch (err) {
      throw new ConfigError(`LATCHKEY_ENCRYPTION_KEYS: ${(err as Error).message}`)
    }
  }
  if (config.production) {
    throw new ConfigError('LATCHKEY_ENCRYPTION_KEYS is required when NODE_ENV=production (generate one with `latchkey keys generate-encryption-key`)')
  }
  const file = config.encryptionKeyFile
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    writeFileSync(file, `1:${Keyring.generateKey()}\n`, { mode: 0o600, flag: 'wx' })
  }
  warnings.push(
    `Tokens are encrypted with a development key stored next to the data in ${file}. Anyone who copies that folder can read every token. Set LATCHKEY_ENCRYPTION_KEYS (and keep it elsewhere) before real use.`,
  )
  try {
    return Keyring.parse(readFileSync(file, 'utf8').trim())
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`)
  }
}

/** Detects a wrong encryption key at start instead of at the first decrypt. */
async function checkKeyFingerprints(store: KyselyStore, keyring: Keyring): Promise<void> {
  const raw = await store.getMeta('encryption_key_fingerprints')
  const stored = raw ? (JSON.parse(raw) as Record<string, string>) : {}
  const missing = Object.keys(stored).map(Number).filter((v) => !keyring.keys.has(v))
  if (missing.length > 0) {
    throw new ConfigError(
      `LATCHKEY_ENCRYPTION_KEYS lacks key version ${missing.join(', ')}, which stored secrets may still use; add it back, run \`latchkey keys rotate-encryption\`, and only then remove it`,
    )
  }
  for (const version of keyring.keys.keys()) {
    const known = stored[String(version)]
    if (known !== undefined && known !== keyring.fingerprint(version)) {
      throw new ConfigError(`encryption key version ${version} is not the key this database was written with; check LATCHKEY_ENCRYPTION_KEYS`)
    }
  }
}

/**
 * Records a key version once it has encrypted something (the vault's first seal with it), not
 * when a process starts with it: a version listed once by mistake (a typo, a key tried once)
 * would otherwise be demanded from every process from then on. Recorded right after that first
 * encryption: a crash in between leaves the version in use unrecorded, which costs only this
 * start-time check (decryption still names the missing version).
 */
async function recordKeyVersion(store: KyselyStore, keyring: Keyring, version: number): Promise<void> {
  const raw = await store.getMeta('encryption_key_fingerprints')
  const stored = raw ? (JSON.parse(raw) as Record<string, string>) : {}
  if (stored[String(version)] === keyring.fingerprint(version)) return
  await store.setMeta('encryption_key_fingerprints', JSON.stringify({ ...stored, [String(version)]: keyring.fingerprint(version) }))
}
