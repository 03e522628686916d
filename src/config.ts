/**
 * @module config
 * Configuration is read once, from the environment and an optional `latchkey.yaml`, validated
 * with zod, and handed to every module as a typed `Config`. Modules never read `process.env`.
 * Start-up fails with one message that names every bad setting (file, entry and field).
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import type * as Yaml from 'yaml'
import { z } from 'zod'
import { type Branding, brandingInput, mergeBranding, NO_BRANDING } from './branding.js'
import { strictEnum, strictObject } from './strict-schema.js'

/**
 * The one error class for a configuration Latchkey cannot start with: settings, the config file,
 * provider entries (`providers/provider-config.ts`, also for admin-API entries, answered as 400)
 * and the registry. The CLI prints its message alone, without a stack.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

const durationSeconds = z.coerce.number().int().min(0)
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'on')

/**
 * Shape of `latchkey.yaml` (Arcade's engine.yaml `auth` section plus Latchkey settings). Every
 * level is strict: an unknown key is a typo until proven otherwise, and stops the start.
 */
const fileSchema = strictObject({
  api: strictObject({
    host: z.string().optional(),
    port: z.coerce.number().int().min(0).max(65535).optional(),
    public_url: z.string().url().optional(),
    /** Arcade's name for the public host. */
    public_host: z.string().optional(),
  }).optional(),
  database: strictObject({ url: z.string().optional() }).optional(),
  /** Where `/metrics` is served: its own listener (`host:port`) and/or behind a bearer token. */
  metrics: strictObject({ listen: z.string().optional(), token: z.string().optional() }).optional(),
  auth: strictObject({
    /** Entries are checked by `providers/provider-config.ts` (the admin API takes the same shape). */
    providers: z.array(z.record(z.string(), z.unknown())).optional(),
    verification: strictObject({
      mode: strictEnum(['skip', 'custom', 'browser']).optional(),
      verifier_url: z.string().url().optional(),
    }).optional(),
    allowed_redirect_origins: z.array(z.string()).optional(),
  }).optional(),
  // --- branding (end-user pages) ---
  /** The end-user pages' branding: `app_name`, `logo_url`, `accent_color`, `support_url` (checked by `branding.ts`). */
  branding: z.record(z.string(), z.unknown()).optional(),
  // --- end branding ---
  outbound: strictObject({
    /** CIDRs, addresses or host names Latchkey may call although they are private (an intranet IdP). */
    allow_private: z.array(z.string()).optional(),
  }).optional(),
  // ---- webhooks (issue 11) ----
  webhooks: strictObject({
    /** Endpoints declared here are read-only through the admin API (`source: config`). */
    endpoints: z
      .array(
        strictObject({
          id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)'),
          url: z.string().url(),
          /** `whsec_<base64>`; use `${ENV_VAR}` to keep it out of the file. */
          secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'a whsec_… secret (whsec_ and at least 16 base64 characters)'),
          events: z.array(z.string()).optional(),
          description: z.string().optional(),
        }),
      )
      .optional(),
    attempt_timeout_ms: z.coerce.number().int().min(100).max(60_000).optional(),
    retry_window_hours: z.coerce
      .number()
      .min(0.001)
      .max(24 * 30)
      .optional(),
    refresh_token_expiry_lead_hours: z.coerce
      .number()
      .min(0)
      .max(24 * 365)
      .optional(),
  }).optional(),
  // ---- end webhooks ----
})

export type VerificationMode = 'skip' | 'custom' | 'browser'

export interface Config {
  host: string
  port: number
  /** Public base URL of this server (callback and hosted links are built from it). */
  publicUrl: string
  /** SQLite file path, `:memory:`, or a `postgres://` URL. */
  databaseUrl: string
  /** PostgreSQL connections per process (a refresh holds one while it waits for the provider). */
  databasePoolSize: number
  /** Encryption keys spec (`"2:<b64>,1:<b64>"`), or undefined to use the dev key file. */
  encryptionKeys: string | undefined
  /** Where the development key file lives (generated on first run when no key is configured). */
  encryptionKeyFile: string
  /** Where `serve` writes the first admin API key when its output is not a terminal (mode 0600). */
  initialAdminKeyFile: string
  production: boolean
  dev: boolean
  logLevel: string
  configFile: string | undefined
  /** Raw `auth.providers` entries from the file (validated by `providers/registry.ts`). */
  providerEntries: Array<Record<string, unknown>>
  /** Client credentials given as `LATCHKEY_<PROVIDER>_CLIENT_ID` / `_CLIENT_SECRET` / `_<SETTING>`. */
  envProviders: Record<string, Record<string, string>>
  // ---- non-OAuth credentials ----
  /**
   * API-key and Basic providers (`providers/credentials/compile.ts` entries): from
   * `LATCHKEY_CREDENTIAL_PROVIDERS=openai,anthropic,twilio` (catalog services under their own ids).
   */
  credentialProviders: Array<Record<string, unknown>>
  // ---- end non-OAuth credentials ----
  flowTtlSeconds: number
  refreshMarginSeconds: number
  refreshCooldownSeconds: number
  backgroundRefresh: { enabled: boolean; intervalSeconds: number; concurrency: number }
  providerTimeoutMs: number
  /** Origins `next_uri` may point to (besides the public URL's own origin). */
  allowedRedirectOrigins: string[]
  /** Allow http:// provider endpoints on loopback hosts (development and tests only). */
  allowInsecureLoopbackProviders: boolean
  // --- MCP (issue 13) ---
  /** Origins of MCP servers an app may name at authorize time (`auth_requirement.mcp.server_url`); empty: none. */
  mcpDynamicOrigins: string[]
  // --- end MCP ---
  verification: { mode: VerificationMode; verifierUrl: string | undefined }
  rateLimit: { perMinute: number }
  /**
   * Failed API-key attempts (401) allowed per client address and minute (0: no limit); after that
   * the address is answered 429 without a key check until the minute is over.
   */
  authFailuresPerMinute: number
  /** Pending authorizations one user may have open at once; the next one is refused (429). */
  maxPendingFlowsPerUser: number
  /** How long finished flows and audit entries are kept (0 days: audit kept forever), and how often the sweep runs. */
  retention: { flowHours: number; auditDays: number; sweepIntervalSeconds: number }
  /**
   * HTTP server timeouts: the request line and headers must arrive within `headersMs`, the whole
   * request (with its body) within `requestMs`; an idle keep-alive connection is closed after
   * `keepAliveMs`. A long-poll is not cut: the timeouts end once the request has arrived.
   */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number }
  /**
   * `/metrics`: `listen` (`host:port`) serves it on a listener of its own instead of the public
   * port; `token` requires `Authorization: Bearer <token>`. With neither in production it is not served.
   */
  metrics: { listen: string | undefined; token: string | undefined }
  bodyLimitBytes: number
  trustProxy: boolean
  /** Audit entries held in memory while they cannot be written (database outage); see broker/audit.ts. */
  auditBufferMax: number
  // --- branding (end-user pages) ---
  /** The end-user pages' branding from configuration; `PUT /v1/admin/branding` overrides it at run time. */
  branding: Branding
  // --- end branding ---
  /** The SSRF guard's allow-list and the egress proxy (`oauth/http.ts`). */
  outbound: {
    allowPrivate: string[]
    proxy: { http: string | undefined; https: string | undefined; noProxy: string | undefined }
  }
  // --- dashboard (issue 12) ---
  /** The admin dashboard at `/dashboard`: whether it is served, and how long a sign-in lasts (idle and at most). */
  dashboard: { enabled: boolean; idleMinutes: number; sessionHours: number }
  // --- end dashboard ---
  // ---- webhooks (issue 11) ----
  webhooks: {
    /** From `webhooks.endpoints` in latchkey.yaml. */
    endpoints: Array<{ id: string; url: string; secret: string; events: string[]; description: string | null }>
    /** Whether this process delivers (any number of processes may). */
    deliver: boolean
    /** One delivery attempt's timeout. */
    attemptTimeoutMs: number
    /** Failed deliveries are retried (exponential backoff with jitter) for this long, then the endpoint is marked failing. */
    retryWindowMs: number
    /** `connection.refresh_token_expiring` is sent this long before a known refresh-token expiry. */
    expiryLeadMs: number
    /** The first retry delay; it doubles per attempt (to at most 4 h), ±25 % jitter. */
    retryBaseMs: number
    /** Deliveries sent at once by this process. */
    concurrency: number
    /** After a secret rotation, the previous secret signs too for this long. */
    rotationGraceMs: number
    /** Settled deliveries and their events are kept this long. */
    retentionMs: number
  }
  // ---- end webhooks ----
}

const envSchema = z.object({
  LATCHKEY_HOST: z.string().min(1).optional(),
  LATCHKEY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LATCHKEY_PUBLIC_URL: z.string().url().optional(),
  DATABASE_URL: z.string().min(1).optional(),
  LATCHKEY_DATABASE_URL: z.string().min(1).optional(),
  LATCHKEY_DATA_DIR: z.string().min(1).optional(),
  LATCHKEY_DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).optional(),
  LATCHKEY_ENCRYPTION_KEYS: z.string().min(1).optional(),
  LATCHKEY_ENCRYPTION_KEY: z.string().min(1).optional(),
  LATCHKEY_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
  LATCHKEY_INITIAL_ADMIN_KEY_FILE: z.string().min(1).optional(),
  LATCHKEY_CONFIG: z.string().min(1).optional(),
  LATCHKEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  LATCHKEY_FLOW_TTL_SECONDS: durationSeconds.min(60).max(3600).optional(),
  LATCHKEY_REFRESH_MARGIN_SECONDS: durationSeconds.max(86_400).optional(),
  LATCHKEY_REFRESH_COOLDOWN_SECONDS: durationSeconds.max(3600).optional(),
  LATCHKEY_BACKGROUND_REFRESH: bool.optional(),
  LATCHKEY_BACKGROUND_REFRESH_INTERVAL_SECONDS: durationSeconds.min(1).optional(),
  LATCHKEY_BACKGROUND_REFRESH_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  LATCHKEY_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).optional(),
  LATCHKEY_ALLOWED_REDIRECT_ORIGINS: z.string().optional(),
  LATCHKEY_MCP_DYNAMIC_ORIGINS: z.string().optional(),
  LATCHKEY_ALLOW_INSECURE_LOOPBACK_PROVIDERS: bool.optional(),
  LATCHKEY_VERIFICATION: z.enum(['skip', 'custom', 'browser']).optional(),
  LATCHKEY_VERIFIER_URL: z.string().url().optional(),
  LATCHKEY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).optional(),
  LATCHKEY_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).optional(),
  LATCHKEY_MAX_PENDING_FLOWS_PER_USER: z.coerce.number().int().min(1).max(10_000).optional(),
  LATCHKEY_FLOW_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .optional(),
  LATCHKEY_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
  LATCHKEY_RETENTION_SWEEP_SECONDS: durationSeconds.min(1).max(86_400).optional(),
  LATCHKEY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  LATCHKEY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  LATCHKEY_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  LATCHKEY_METRICS_LISTEN: z.string().min(1).optional(),
  LATCHKEY_METRICS_TOKEN: z.string().min(16).optional(),
  LATCHKEY_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .optional(),
  LATCHKEY_AUDIT_BUFFER_MAX: z.coerce.number().int().min(1000).max(10_000_000).optional(),
  LATCHKEY_TRUST_PROXY: bool.optional(),
  LATCHKEY_OUTBOUND_ALLOW_PRIVATE: z.string().optional(),
  // ---- non-OAuth credentials ----
  LATCHKEY_CREDENTIAL_PROVIDERS: z.string().optional(),
  // ---- end non-OAuth credentials ----
  LATCHKEY_WEBHOOK_DELIVERY: bool.optional(),
  LATCHKEY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).optional(),
  LATCHKEY_WEBHOOK_RETRY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .optional(),
  LATCHKEY_WEBHOOK_EXPIRY_LEAD_SECONDS: durationSeconds.max(365 * 86_400).optional(),
  LATCHKEY_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).optional(),
  LATCHKEY_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
  LATCHKEY_WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).optional(),
  // The standard proxy variables; the lower-case form wins, as in curl.
  HTTP_PROXY: z.string().optional(),
  http_proxy: z.string().optional(),
  HTTPS_PROXY: z.string().optional(),
  https_proxy: z.string().optional(),
  NO_PROXY: z.string().optional(),
  no_proxy: z.string().optional(),
  NODE_ENV: z.string().optional(),
  // --- branding (end-user pages) ---
  LATCHKEY_BRANDING_APP_NAME: z.string().optional(),
  LATCHKEY_BRANDING_LOGO_URL: z.string().optional(),
  LATCHKEY_BRANDING_ACCENT_COLOR: z.string().optional(),
  LATCHKEY_BRANDING_SUPPORT_URL: z.string().optional(),
  // --- end branding ---
  // --- dashboard (issue 12) ---
  LATCHKEY_DASHBOARD: bool.optional(),
  LATCHKEY_DASHBOARD_IDLE_MINUTES: z.coerce.number().int().min(1).max(1440).optional(),
  LATCHKEY_DASHBOARD_SESSION_HOURS: z.coerce.number().int().min(1).max(720).optional(),
  // --- end dashboard ---
})

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>
  /** Flags from the CLI; they win over the environment. */
  overrides?: Partial<Config>
  cwd?: string
}

/** yaml (~70 modules) is loaded only when there is a configuration file to read (start-up time). */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof Yaml).parse(text)
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const parsedEnv = envSchema.safeParse(env)
  if (!parsedEnv.success) {
    throw new ConfigError(`invalid environment:\n${formatIssues(parsedEnv.error, '')}`)
  }
  const e = parsedEnv.data

  const configFile =
    options.overrides?.configFile ?? e.LATCHKEY_CONFIG ?? (existsSync(resolve(cwd, 'latchkey.yaml')) ? 'latchkey.yaml' : undefined)
  let file: z.infer<typeof fileSchema> = {}
  if (configFile !== undefined) {
    const path = resolve(cwd, configFile)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new ConfigError(`${configFile}: cannot read the configuration file (${(err as Error).message})`)
    }
    let raw: unknown
    try {
      raw = substitute(parseYaml(text) ?? {}, env, configFile, [], cwd)
    } catch (err) {
      if (err instanceof ConfigError) throw err
      throw new ConfigError(`${configFile}: not valid YAML: ${(err as Error).message}`)
    }
    const parsed = fileSchema.safeParse(raw)
    if (!parsed.success) throw new ConfigError(`${configFile}: invalid configuration:\n${formatIssues(parsed.error, '')}`)
    file = parsed.data
  }

  const dev = options.overrides?.dev ?? false
  const production = e.NODE_ENV === 'production'
  const port = e.LATCHKEY_PORT ?? file.api?.port ?? 9099
  const host = e.LATCHKEY_HOST ?? file.api?.host ?? 'localhost'
  const publicUrl = stripSlash(
    e.LATCHKEY_PUBLIC_URL ??
      file.api?.public_url ??
      (file.api?.public_host ? `https://${file.api.public_host}` : `http://localhost:${port}`),
  )
  const dataDir = resolve(cwd, e.LATCHKEY_DATA_DIR ?? 'data')

  const verificationFile = file.auth?.verification ?? {}
  const verifierUrl = e.LATCHKEY_VERIFIER_URL ?? verificationFile.verifier_url
  const mode: VerificationMode = e.LATCHKEY_VERIFICATION ?? verificationFile.mode ?? (verifierUrl ? 'custom' : 'browser')
  if (mode === 'custom' && !verifierUrl)
    throw new ConfigError('verification mode "custom" needs LATCHKEY_VERIFIER_URL (or auth.verification.verifier_url)')

  const allowedRedirectOrigins = [
    ...(file.auth?.allowed_redirect_origins ?? []),
    ...(e.LATCHKEY_ALLOWED_REDIRECT_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ].map((o, i) => {
    try {
      return new URL(o).origin
    } catch {
      throw new ConfigError(`allowed redirect origin #${i + 1} is not a URL: ${JSON.stringify(o)}`)
    }
  })

  const allowPrivate = [
    // --dev calls its own demo provider on this machine.
    ...(dev ? ['127.0.0.0/8', '::1'] : []),
    ...(file.outbound?.allow_private ?? []),
    ...(e.LATCHKEY_OUTBOUND_ALLOW_PRIVATE ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ]

  const config: Config = {
    host,
    port,
    publicUrl,
    databaseUrl: e.DATABASE_URL ?? e.LATCHKEY_DATABASE_URL ?? file.database?.url ?? resolve(dataDir, 'latchkey.db'),
    databasePoolSize: e.LATCHKEY_DATABASE_POOL_SIZE ?? 20,
    encryptionKeys: e.LATCHKEY_ENCRYPTION_KEYS ?? e.LATCHKEY_ENCRYPTION_KEY,
    encryptionKeyFile: resolve(cwd, e.LATCHKEY_ENCRYPTION_KEY_FILE ?? resolve(dataDir, 'encryption.key')),
    initialAdminKeyFile: resolve(cwd, e.LATCHKEY_INITIAL_ADMIN_KEY_FILE ?? resolve(dataDir, 'initial-admin-key')),
    production,
    dev,
    logLevel: e.LATCHKEY_LOG_LEVEL ?? 'info',
    configFile,
    providerEntries: file.auth?.providers ?? [],
    envProviders: collectEnvProviders(env),
    // ---- non-OAuth credentials ----
    credentialProviders: (e.LATCHKEY_CREDENTIAL_PROVIDERS ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean)
      .map((id) => ({ id, service: id })),
    // ---- end non-OAuth credentials ----
    flowTtlSeconds: e.LATCHKEY_FLOW_TTL_SECONDS ?? 600,
    refreshMarginSeconds: e.LATCHKEY_REFRESH_MARGIN_SECONDS ?? 300,
    refreshCooldownSeconds: e.LATCHKEY_REFRESH_COOLDOWN_SECONDS ?? 30,
    backgroundRefresh: {
      enabled: e.LATCHKEY_BACKGROUND_REFRESH ?? true,
      intervalSeconds: e.LATCHKEY_BACKGROUND_REFRESH_INTERVAL_SECONDS ?? 60,
      concurrency: e.LATCHKEY_BACKGROUND_REFRESH_CONCURRENCY ?? 4,
    },
    providerTimeoutMs: e.LATCHKEY_PROVIDER_TIMEOUT_MS ?? 10_000,
    allowedRedirectOrigins,
    // MCP (issue 13): origins, normalised like the redirect origins.
    mcpDynamicOrigins: (e.LATCHKEY_MCP_DYNAMIC_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((o) => {
        try {
          return new URL(o).origin
        } catch {
          throw new ConfigError(`LATCHKEY_MCP_DYNAMIC_ORIGINS: ${JSON.stringify(o)} is not a URL`)
        }
      }),
    allowInsecureLoopbackProviders: e.LATCHKEY_ALLOW_INSECURE_LOOPBACK_PROVIDERS ?? (dev || !production),
    verification: { mode, verifierUrl },
    rateLimit: { perMinute: e.LATCHKEY_RATE_LIMIT_PER_MINUTE ?? 6000 },
    authFailuresPerMinute: e.LATCHKEY_AUTH_FAILURES_PER_MINUTE ?? 30,
    maxPendingFlowsPerUser: e.LATCHKEY_MAX_PENDING_FLOWS_PER_USER ?? 20,
    retention: {
      flowHours: e.LATCHKEY_FLOW_RETENTION_HOURS ?? 24,
      auditDays: e.LATCHKEY_AUDIT_RETENTION_DAYS ?? 90,
      sweepIntervalSeconds: e.LATCHKEY_RETENTION_SWEEP_SECONDS ?? 600,
    },
    http: httpTimeouts(
      e.LATCHKEY_HEADERS_TIMEOUT_MS ?? 20_000,
      e.LATCHKEY_REQUEST_TIMEOUT_MS ?? 30_000,
      e.LATCHKEY_KEEP_ALIVE_TIMEOUT_MS ?? 72_000,
    ),
    metrics: metricsEndpoint(e.LATCHKEY_METRICS_LISTEN ?? file.metrics?.listen, e.LATCHKEY_METRICS_TOKEN ?? file.metrics?.token),
    bodyLimitBytes: e.LATCHKEY_BODY_LIMIT_BYTES ?? 64 * 1024,
    trustProxy: e.LATCHKEY_TRUST_PROXY ?? false,
    auditBufferMax: e.LATCHKEY_AUDIT_BUFFER_MAX ?? 100_000,
    branding: brandingConfig(file.branding ?? {}, e),
    outbound: {
      allowPrivate,
      proxy: {
        http: e.http_proxy || e.HTTP_PROXY || undefined,
        https: e.https_proxy || e.HTTPS_PROXY || undefined,
        noProxy: e.no_proxy || e.NO_PROXY || undefined,
      },
    },
    // --- dashboard (issue 12) ---
    dashboard: {
      enabled: e.LATCHKEY_DASHBOARD ?? true,
      idleMinutes: e.LATCHKEY_DASHBOARD_IDLE_MINUTES ?? 30,
      sessionHours: e.LATCHKEY_DASHBOARD_SESSION_HOURS ?? 12,
    },
    // --- end dashboard ---
    // ---- webhooks (issue 11) ----
    webhooks: {
      endpoints: (file.webhooks?.endpoints ?? []).map((w) => ({
        id: w.id,
        url: w.url,
        secret: w.secret,
        events: w.events ?? ['*'],
        description: w.description ?? null,
      })),
      deliver: e.LATCHKEY_WEBHOOK_DELIVERY ?? true,
      attemptTimeoutMs: e.LATCHKEY_WEBHOOK_TIMEOUT_MS ?? file.webhooks?.attempt_timeout_ms ?? 10_000,
      retryWindowMs: (e.LATCHKEY_WEBHOOK_RETRY_WINDOW_SECONDS ?? (file.webhooks?.retry_window_hours ?? 72) * 3600) * 1000,
      expiryLeadMs: (e.LATCHKEY_WEBHOOK_EXPIRY_LEAD_SECONDS ?? (file.webhooks?.refresh_token_expiry_lead_hours ?? 72) * 3600) * 1000,
      retryBaseMs: e.LATCHKEY_WEBHOOK_RETRY_BASE_MS ?? 5_000,
      concurrency: e.LATCHKEY_WEBHOOK_CONCURRENCY ?? 64,
      rotationGraceMs: 24 * 3600 * 1000,
      retentionMs: (e.LATCHKEY_WEBHOOK_RETENTION_DAYS ?? 7) * 86_400_000,
    },
    // ---- end webhooks ----
  }
  return { ...config, ...stripUndefined(options.overrides ?? {}) }
}

// --- branding (end-user pages) ---
/** The file's `branding:` section, then `LATCHKEY_BRANDING_*` over it (an empty variable is unset). */
function brandingConfig(fromFile: Record<string, unknown>, e: z.infer<typeof envSchema>): Branding {
  const parsed = brandingInput.safeParse(fromFile)
  if (!parsed.success) throw new ConfigError(`branding: invalid configuration:\n${formatIssues(parsed.error, 'branding.')}`)
  const env = {
    app_name: e.LATCHKEY_BRANDING_APP_NAME || undefined,
    logo_url: e.LATCHKEY_BRANDING_LOGO_URL || undefined,
    accent_color: e.LATCHKEY_BRANDING_ACCENT_COLOR || undefined,
    support_url: e.LATCHKEY_BRANDING_SUPPORT_URL || undefined,
  }
  const fromEnv = brandingInput.safeParse(env)
  if (!fromEnv.success) {
    const names = fromEnv.error.issues.map((i) => `  - LATCHKEY_BRANDING_${String(i.path[0]).toUpperCase()}: ${i.message}`)
    throw new ConfigError(`invalid environment:\n${names.join('\n')}`)
  }
  return mergeBranding(mergeBranding(NO_BRANDING, parsed.data), fromEnv.data)
}
// --- end branding ---

/** Node refuses a headers timeout longer than the request timeout; say so in our terms. */
function httpTimeouts(headersTimeoutMs: number, requestTimeoutMs: number, keepAliveTimeoutMs: number): Config['http'] {
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `LATCHKEY_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed LATCHKEY_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    )
  }
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs }
}

function metricsEndpoint(listen: string | undefined, token: string | undefined): Config['metrics'] {
  if (listen !== undefined && !/^[^\s:]*:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(listen)) {
    throw new ConfigError(`LATCHKEY_METRICS_LISTEN (metrics.listen) must be host:port, e.g. 127.0.0.1:9464; got ${JSON.stringify(listen)}`)
  }
  if (token !== undefined && token.length < 16)
    throw new ConfigError('LATCHKEY_METRICS_TOKEN (metrics.token) must be at least 16 characters')
  return { listen, token }
}

/**
 * `LATCHKEY_GITHUB_CLIENT_ID=…` → `{ github: { client_id: … } }` (dashes in ids become `_`); the
 * provider's other `LATCHKEY_<ID>_<NAME>` variables come along (settings such as `_DOMAIN`).
 */
function collectEnvProviders(env: Record<string, string | undefined>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  for (const [name, value] of Object.entries(env)) {
    const m = /^LATCHKEY_([A-Z0-9_]+?)_CLIENT_ID$/.exec(name)
    if (!m || value === undefined || value === '') continue
    const prefix = `LATCHKEY_${m[1]}_`
    const vars: Record<string, string> = {}
    for (const [k, v] of Object.entries(env)) {
      if (k.startsWith(prefix) && v !== undefined && v !== '') vars[k.slice(prefix.length).toLowerCase()] = v
    }
    out[m[1]!.toLowerCase().replace(/_/g, '-')] = vars
  }
  return out
}

/** Replaces `${env:NAME}` and `${file:PATH}` in every string of the parsed YAML. */
function substitute(
  value: unknown,
  env: Record<string, string | undefined>,
  file: string,
  path: Array<string | number>,
  cwd: string,
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(env|file):([^}]+)\}/g, (_, kind: string, ref: string) => {
      if (kind === 'env') {
        const v = env[ref]
        if (v === undefined) throw new ConfigError(`${file}: ${formatPath(path)}: environment variable ${ref} is not set`)
        return v
      }
      try {
        return readFileSync(resolve(cwd, ref), 'utf8').trim()
      } catch {
        throw new ConfigError(`${file}: ${formatPath(path)}: cannot read file ${ref}`)
      }
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, env, file, [...path, i], cwd))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env, file, [...path, k], cwd)]))
  }
  return value
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(root)'
}

export function formatIssues(error: z.ZodError, prefix: string): string {
  return error.issues.map((i) => `  - ${prefix}${formatPath(i.path)}: ${i.message}`).join('\n')
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
