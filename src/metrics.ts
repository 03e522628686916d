/**
 * @module metrics
 * Prometheus metrics on a per-broker registry (`GET /metrics`). Labels never carry user ids
 * or tokens: only provider ids and outcomes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export function createMetrics() {
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
  return {
    registry,
    authorizations,
    /** Counts one `authorizations{provider, outcome="completed"}`. */
    countCompleted(provider: string): void {
      completedSinceRead.set(provider, (completedSinceRead.get(provider) ?? 0) + 1)
    },
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
    callbacks: new Counter({
      name: 'latchkey_callback_total',
      help: 'OAuth callbacks by outcome',
      labelNames: ['provider', 'outcome'] as const,
      registers: [registry],
    }),
    waiters: new Gauge({ name: 'latchkey_status_waiters', help: 'Open status long-polls', registers: [registry] }),
    auditBacklog: new Gauge({ name: 'latchkey_audit_backlog', help: 'Audit entries in memory not yet written (grows during a database outage)', registers: [registry] }),
    auditRefused: new Counter({ name: 'latchkey_audit_refused_total', help: 'Token hand-outs refused (503) because the audit backlog was full', registers: [registry] }),
    auditDropped: new Counter({ name: 'latchkey_audit_dropped_total', help: 'Audit entries dropped because the backlog was full, or lost at shutdown', labelNames: ['action'] as const, registers: [registry] }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
