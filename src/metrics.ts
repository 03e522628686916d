/**
 * @module metrics
 * Prometheus metrics on a per-broker registry (`/metrics`). Labels never carry user ids or
 * tokens: only provider ids (bounded by the configured providers), route patterns, status
 * classes and outcomes from fixed sets. Gauges that need the database (connections by status,
 * pending flows) are read at scrape time, at most once per `storeTtlMs`, and keep their last
 * value when the database cannot answer (a scrape never fails because of an outage).
 * Default Node metrics are on (`nodejs_eventloop_lag_seconds` and friends).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { RouteDurations } from './route-durations.js'

/** Counted where queries run (Kysely's log hook) and read at scrape time. */
export interface StoreStats {
  /** Failed queries (not counting unique violations, which the store expects and handles) and dropped pool connections. */
  errors: number
  pool?: () => { max: number; total: number; idle: number; waiting: number }
}

/** What the store-backed gauges read; absent in tools that build a context without a server. */
export interface MetricSources {
  stats: StoreStats
  countConnectionsByStatus(): Promise<Record<string, number>>
  countOpenFlows(now: number): Promise<number>
  /**
   * Hook for the webhook outbox (not built yet): the age in seconds of the oldest undelivered
   * event, exported as `latchkey_outbox_lag_seconds` when given.
   */
  outboxLagSeconds?: () => Promise<number>
}

const CONNECTION_STATUSES = ['active', 'reauth_required', 'revoked'] as const
/** Callback outcomes that end an authorization unsuccessfully (the others are replays or a step on the way). */
const FAILED_CALLBACKS = new Set(['expired', 'denied', 'provider_error'])

export function createMetrics(sources?: MetricSources, storeTtlMs = 15_000) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // Completed authorizations are the hot path: counted in a plain map and added to the counter
  // when metrics are read (prom-client hashes the label values on every `inc`).
  const completedSinceRead = new Map<string, number>()
  const authorizations = new Counter({
    name: 'latchkey_authorize_total',
    help: 'POST /v1/auth/authorize outcomes',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
    collect() {
      for (const [provider, n] of completedSinceRead) this.inc({ provider, outcome: 'completed' }, n)
      completedSinceRead.clear()
    },
  })
  const flows = new Counter({
    name: 'latchkey_authorizations_total',
    help: 'Authorization flows (a user sent to the provider) by result: started, completed, failed',
    labelNames: ['provider', 'result'] as const,
    registers: [registry],
  })
  const flowFailures = new Counter({
    name: 'latchkey_authorization_failures_total',
    help: 'Failed authorization flows by reason (denied, expired, provider_error, exchange_<kind>)',
    labelNames: ['provider', 'reason'] as const,
    registers: [registry],
  })
  const callbackCounter = new Counter({
    name: 'latchkey_callback_total',
    help: 'OAuth callbacks by outcome',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
  })
  const flowFailed = (provider: string, reason: string) => {
    flows.inc({ provider, result: 'failed' })
    flowFailures.inc({ provider, reason })
  }

  const durations = new RouteDurations()
  durations.register(registry)

  if (sources) registerStoreGauges(registry, sources, storeTtlMs)

  return {
    registry,
    authorizations,
    /** Counts one `authorizations{provider, outcome="completed"}`. */
    countCompleted(provider: string): void {
      completedSinceRead.set(provider, (completedSinceRead.get(provider) ?? 0) + 1)
    },
    /** A new flow was opened (a user will be sent to the provider). */
    flowStarted(provider: string): void {
      flows.inc({ provider, result: 'started' })
    },
    flowFailed,
    /**
     * OAuth callbacks by outcome; the outcomes that complete or end a flow also count in
     * `latchkey_authorizations_total` / `latchkey_authorization_failures_total`.
     */
    callbacks: {
      inc(labels: { provider: string; outcome: string }): void {
        callbackCounter.inc(labels)
        if (labels.outcome === 'completed') flows.inc({ provider: labels.provider, result: 'completed' })
        else if (FAILED_CALLBACKS.has(labels.outcome) || labels.outcome.startsWith('exchange_')) flowFailed(labels.provider, labels.outcome)
      },
    },
    /** Request durations by route pattern and status class (the `onResponse` hook records them). */
    durations,
    refreshes: new Counter({
      name: 'latchkey_refresh_total',
      help: 'Token refreshes by outcome',
      labelNames: ['provider', 'outcome'] as const,
      registers: [registry],
    }),
    refreshSeconds: new Histogram({
      name: 'latchkey_refresh_duration_seconds',
      help: 'Provider refresh call duration',
      labelNames: ['provider'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    waiters: new Gauge({ name: 'latchkey_status_waiters', help: 'Open status long-polls', registers: [registry] }),
    auditBacklog: new Gauge({
      name: 'latchkey_audit_backlog',
      help: 'Audit entries in memory not yet written (grows during a database outage)',
      registers: [registry],
    }),
    auditRefused: new Counter({
      name: 'latchkey_audit_refused_total',
      help: 'Token hand-outs refused (503) because the audit backlog was full',
      registers: [registry],
    }),
    auditDropped: new Counter({
      name: 'latchkey_audit_dropped_total',
      help: 'Audit entries dropped because the backlog was full, or lost at shutdown',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
  }
}

/** Gauges read from the store at scrape time, cached for `ttlMs`, last value kept on failure. */
function registerStoreGauges(registry: Registry, sources: MetricSources, ttlMs: number): void {
  const cached = <T>(read: () => Promise<T>, initial: T) => {
    let value = initial
    let at = -Infinity
    return async (): Promise<T> => {
      if (performance.now() - at >= ttlMs) {
        at = performance.now()
        // A failed read is counted by the store (latchkey_db_errors_total); the gauge keeps its value.
        value = await read().catch(() => value)
      }
      return value
    }
  }
  // Registered (so read) before the gauges below query the database: their queries would
  // otherwise show up as waiting for a connection in the very scrape that reports it.
  if (sources.stats.pool) {
    const pool = sources.stats.pool
    new Gauge({
      name: 'latchkey_db_pool_clients',
      help: 'PostgreSQL pool: max (configured size), total (open), idle, and waiting (requests queued for a connection)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const p = pool()
        for (const state of ['max', 'total', 'idle', 'waiting'] as const) this.set({ state }, p[state])
      },
    })
  }
  const byStatus = cached(() => sources.countConnectionsByStatus(), {} as Record<string, number>)
  new Gauge({
    name: 'latchkey_connections',
    help: 'Stored connections by status (read from the database at most every 15 s)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await byStatus()
      for (const status of CONNECTION_STATUSES) this.set({ status }, counts[status] ?? 0)
    },
  })
  const openFlows = cached(() => sources.countOpenFlows(Date.now()), 0)
  new Gauge({
    name: 'latchkey_pending_flows',
    help: 'Authorization flows waiting for the user (pending, not expired; read at most every 15 s)',
    registers: [registry],
    async collect() {
      this.set(await openFlows())
    },
  })
  let errorsSeen = 0
  new Counter({
    name: 'latchkey_db_errors_total',
    help: 'Failed database queries and dropped pool connections',
    registers: [registry],
    collect() {
      this.inc(sources.stats.errors - errorsSeen)
      errorsSeen = sources.stats.errors
    },
  })
  if (sources.outboxLagSeconds) {
    const lag = sources.outboxLagSeconds
    new Gauge({
      name: 'latchkey_outbox_lag_seconds',
      help: 'Age of the oldest undelivered webhook event',
      registers: [registry],
      async collect() {
        this.set(await lag().catch(() => 0))
      },
    })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
