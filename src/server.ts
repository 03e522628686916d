/**
 * @module server
 * `createLatchkey(config)`, the wiring: opens storage, checks the encryption keys, loads
 * providers, builds the broker context, the HTTP app (`http/app.ts`) and the background jobs.
 * The CLI's `serve` and the tests both start Latchkey through here.
 */

import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { dirname } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { ProviderAdmin } from './broker/admin-providers.js'
import { ApiKeys } from './broker/api-keys.js'
import { AuditLog } from './broker/audit.js'
import { BackgroundRefresher } from './broker/background-refresh.js'
import { ConnectionCache } from './broker/connection-cache.js'
import type { BrokerContext } from './broker/context.js'
import { DashboardSessions } from './broker/dashboard-sessions.js'
import { sweepExpiredFlows } from './broker/expired-flows.js'
import { sweepInterruptedCallbacks } from './broker/interrupted-callbacks.js'
import { LastUse } from './broker/last-use.js'
import { McpProviders } from './broker/mcp-providers.js'
import { KeyAnnouncer } from './broker/process-keys.js'
import { Refresher } from './broker/refresher.js'
import { RetentionSweeper } from './broker/retention.js'
import type { BrokerServices } from './broker/services.js'
import { Vault } from './broker/vault.js'
import { FlowWaiters } from './broker/waiters.js'
import { Webhooks } from './broker/webhooks.js'
import type { Config } from './config.js'
import { ConfigError } from './config.js'
import { Keyring } from './crypto/keyring.js'
import type { DemoIdp } from './demo/demo-idp.js'
import { LatchkeyError } from './errors.js'
import { buildApp } from './http/app.js'
import { metricsWarning, startMetricsListener } from './http/metrics-endpoint.js'
import { createLogger } from './log.js'
import { createMetrics } from './metrics.js'
import { createOutbound, type Fetch, type Outbound } from './oauth/http.js'
import { OutboundGuard, type ResolveHost } from './oauth/outbound-guard.js'
import { CALLBACK_PATH, DEMO_IDP_PREFIX } from './paths.js'
import { catalog } from './providers/catalog.js'
import { compileCredentialEntry } from './providers/credentials/compile.js'
import { demoDefinition } from './providers/demo.js'
import { loadProviders } from './providers/registry.js'
import { DashboardStore } from './storage/dashboard-store.js'
import type { KyselyStore } from './storage/kysely-store.js'
import { KyselyMcpStore } from './storage/mcp-registrations.js'
import { openStore } from './storage/open-store.js'
import { WebhookStore } from './storage/webhook-store.js'

export interface LatchkeyOptions {
  logger?: Logger
  /** Outbound fetch for provider calls (tests inject one to count or fail calls). */
  fetch?: Fetch
  /** Name resolution for outbound requests (tests map a name to 127.0.0.1). */
  resolve?: ResolveHost
  /** Create and return an admin key when the database has none (default true; the CLI's offline commands say false). */
  bootstrapApiKey?: boolean
  /** Webhook deliverer tuning: the idle fallback poll. */
  webhooks?: { pollMs?: number }
  /** The authorize fast path in front of Fastify (default true; tests compare answers without it). */
  fastPaths?: boolean
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
  /** Webhook endpoints and this process's deliverer. */
  webhooks: Webhooks
  /** Settles interrupted callbacks and fails expired flows now (also every 15 s); returns the expired ones. */
  sweepFlows(): Promise<number>
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
    warnings.push(
      'User verification is OFF (LATCHKEY_VERIFICATION=skip): anyone holding an authorization link can attach their account to your user. Development only.',
    )
  }

  const store = openStore({
    url: config.databaseUrl,
    poolSize: config.databasePoolSize,
    onBridgeError: (err) => log.warn({ err: err.message }, 'event listener connection lost; reconnecting'),
    // Twice per outage, whatever the request rate: requests answer 503 meanwhile without a log line each.
    onAvailability: (e) =>
      e.kind === 'down'
        ? log.error(
            { err: e.error.message, code: (e.error as { code?: string }).code },
            'database unavailable: answering 503 (cached connections are still served)',
          )
        : log.warn({ downMs: e.downMs }, `database available again after ${(e.downMs / 1000).toFixed(1)} s`),
  })
  try {
    await store.migrate()
    await checkKeyFingerprints(store, keyring)
    const announcer = new KeyAnnouncer(store, keyring, (err) =>
      log.warn({ err: err.message }, "could not announce this process's encryption keys"),
    )
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

async function assemble(
  config: Config,
  options: LatchkeyOptions,
  log: Logger,
  warnings: string[],
  keyring: Keyring,
  store: KyselyStore,
  announcer: KeyAnnouncer,
): Promise<Latchkey> {
  const outbound = buildOutbound(config, options)
  const registry = loadProviders({
    guard: outbound.guard,
    catalog,
    entries: config.providerEntries,
    envProviders: config.envProviders,
    configFile: config.configFile,
    allowInsecureLoopback: config.allowInsecureLoopbackProviders,
  })
  // ---- non-OAuth credentials ----
  config.credentialProviders.forEach((raw, i) => {
    const provider = compileCredentialEntry(raw, {
      allowInsecureLoopback: config.allowInsecureLoopbackProviders,
      guard: outbound.guard,
      where: `credential provider ${i} (${String(raw['id'])})`,
    })
    if (registry.get(provider.id))
      throw new ConfigError(`credential provider ${JSON.stringify(provider.id)}: the id is already a provider's`)
    registry.set(provider)
  })
  // ---- end non-OAuth credentials ----

  const redirectUri = `${config.publicUrl}${CALLBACK_PATH}`
  let demo: DemoIdp | undefined
  if (config.dev) {
    const issuer = `${config.publicUrl}${DEMO_IDP_PREFIX}`
    const secret = randomBytes(24).toString('base64url')
    // Loaded only in dev mode: oidc-provider is an optional dependency, of the demo alone.
    const { createDemoIdp } = await import('./demo/demo-idp.js').catch((err: unknown) => {
      if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes("'oidc-provider'")) {
        throw new ConfigError(
          "--dev needs the demo provider's optional dependency oidc-provider, which is not installed: run `npm install` (without --omit=optional)",
        )
      }
      throw err
    })
    demo = createDemoIdp({ issuer, clients: [{ client_id: 'latchkey-demo', client_secret: secret, redirect_uris: [redirectUri] }] })
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

  let webhooks: Webhooks | undefined
  const metrics = createMetrics({
    stats: store.stats,
    countConnectionsByStatus: () => store.countConnectionsByStatus(),
    countOpenFlows: (now) => store.countOpenFlows(now),
    outboxLagSeconds: () => webhooks?.lagSeconds() ?? Promise.resolve(0),
  })
  const audit = new AuditLog(store, log, { maxBacklog: config.auditBufferMax, metrics })
  const vault = new Vault(keyring, (version) => {
    recordKeyVersion(store, keyring, version).catch((err: Error) =>
      log.error({ err: err.message }, 'could not record the encryption key fingerprint'),
    )
  })
  const http = { timeoutMs: config.providerTimeoutMs, outbound, ...(options.fetch ? { fetch: options.fetch } : {}) }
  const base: BrokerServices = {
    config,
    store,
    vault,
    registry,
    log,
    http,
    metrics,
    audit,
    waiters: new FlowWaiters(store),
    redirectUri,
    mcp: new McpProviders({ config, store: new KyselyMcpStore(store.db), vault, http, log, audit, redirectUri }),
  }
  const ctx: BrokerContext = {
    ...base,
    refresher: new Refresher(base),
    connectionCache: new ConnectionCache(store),
    lastUse: new LastUse(store, log),
  }
  const apiKeys = new ApiKeys(store)
  const providerAdmin = new ProviderAdmin(ctx)
  await providerAdmin.loadAll()
  providerAdmin.startResync()

  let initialApiKey: string | undefined
  if (options.bootstrapApiKey !== false && (await store.listApiKeys()).length === 0) {
    initialApiKey = (await apiKeys.create({ name: 'initial admin key', role: 'admin' })).key
  }

  // The admin dashboard (issue 12): sessions in the database, so any process accepts them.
  const dashboardStore = new DashboardStore(store.db)
  const dashboard = {
    store: dashboardStore,
    sessions: config.dashboard.enabled ? new DashboardSessions(dashboardStore, apiKeys, audit, config.dashboard) : undefined,
  }
  const webhookStore = new WebhookStore(store.db, store.dialect)
  const hooks = new Webhooks(base, webhookStore, options.webhooks)
  webhooks = hooks
  try {
    await hooks.syncConfigEndpoints()
  } catch (err) {
    // A bad webhooks.endpoints entry in latchkey.yaml stops the start like any other setting.
    if (err instanceof LatchkeyError) throw new ConfigError(`webhooks.endpoints: ${err.message}`)
    throw err
  }
  if (config.webhooks.deliver) hooks.start()

  const app = buildApp(ctx, apiKeys, providerAdmin, demo, dashboard, hooks, { fastPaths: options.fastPaths !== false })
  const background = new BackgroundRefresher(ctx)
  if (config.backgroundRefresh.enabled) background.start()
  const retention = new RetentionSweeper(store, config.retention, log)
  retention.start()
  // Flows whose callback's process died mid-exchange, for apps that are not polling them.
  // And flows that expired with nobody looking, on every process (delivering webhooks or not).
  const sweepFlows = async (): Promise<number> => {
    await sweepInterruptedCallbacks(ctx)
    const expired = await sweepExpiredFlows(ctx, webhookStore)
    if (expired > 0) hooks.kick()
    return expired
  }
  const interrupted = setInterval(() => {
    sweepFlows().catch((err: unknown) => {
      // During a database outage (logged once by the store) the next run retries.
      if (!store.unavailable) log.warn({ err: (err as Error).message }, 'flow sweep failed')
    })
  }, 15_000)
  interrupted.unref()

  const metricsWarned = metricsWarning(config)
  if (metricsWarned) warnings.push(metricsWarned)
  let metricsListener: Server | undefined

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
    webhooks: hooks,
    sweepFlows,
    async listen() {
      if (config.metrics.listen !== undefined) {
        const started = await startMetricsListener(config.metrics.listen, metrics.registry, config.metrics.token)
        metricsListener = started.server
        log.info({ url: started.url }, 'metrics listener started')
      }
      return app.listen({ host: config.host, port: config.port })
    },
    async close() {
      if (closed) return
      closed = true
      await retention.stop()
      clearInterval(interrupted)
      await background.stop()
      await hooks.stop()
      ctx.waiters.close()
      ctx.connectionCache.close()
      await app.close()
      if (metricsListener) await new Promise((resolve) => metricsListener!.close(resolve))
      await ctx.lastUse.close()
      await audit.close()
      apiKeys.close()
      providerAdmin.close()
      await announcer.close()
      await store.close()
      await outbound.close()
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
    throw new ConfigError(
      'LATCHKEY_ENCRYPTION_KEYS is required when NODE_ENV=production (generate one with `latchkey keys generate-encryption-key`)',
    )
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
  const missing = Object.keys(stored)
    .map(Number)
    .filter((v) => !keyring.keys.has(v))
  if (missing.length > 0) {
    throw new ConfigError(
      `LATCHKEY_ENCRYPTION_KEYS lacks key version ${missing.join(', ')}, which stored secrets may still use; add it back, run \`latchkey keys rotate-encryption\`, and only then remove it`,
    )
  }
  for (const version of keyring.keys.keys()) {
    const known = stored[String(version)]
    if (known !== undefined && known !== keyring.fingerprint(version)) {
      throw new ConfigError(
        `encryption key version ${version} is not the key this database was written with; check LATCHKEY_ENCRYPTION_KEYS`,
      )
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
