/**
 * @module broker/admin-stats
 * The admin overview: connections by status, authorizations started / completed / failed per
 * hour, refresh failures by provider and reason (both from the audit trail), and open flows.
 * Read on demand by the dashboard; nothing is counted on the hot path for it.
 */
import type { DashboardStore } from '../storage/dashboard-store.js'
import type { BrokerContext } from './context.js'

const HOUR_MS = 3_600_000
/** Refresh failures are grouped from at most this many recent entries. */
const FAILURE_SAMPLE = 10_000

export interface OverviewStats {
  generated_at: number
  hours: number
  connections_by_status: Record<'active' | 'reauth_required' | 'revoked', number>
  open_flows: number
  /** One bucket per hour, oldest first; `hour_start` is the bucket's start time. */
  authorizations: Array<{ hour_start: number; started: number; completed: number; failed: number }>
  refresh_failures: Array<{ provider_id: string; reason: string; count: number; last_at: number }>
}

export async function overviewStats(ctx: BrokerContext, store: DashboardStore, hours: number, now = Date.now()): Promise<OverviewStats> {
  await ctx.audit.flush()
  const firstHour = Math.floor(now / HOUR_MS) - hours + 1
  const since = firstHour * HOUR_MS
  const [byStatus, open, perHour, failures] = await Promise.all([
    ctx.store.countConnectionsByStatus(),
    ctx.store.countOpenFlows(now),
    store.countAuditPerHour(['flow.started', 'flow.failed', 'connection.created', 'connection.updated'], since),
    store.listAuditActions(['connection.refresh_failed', 'connection.reauth_required'], since, FAILURE_SAMPLE),
  ])
  const buckets = Array.from({ length: hours }, (_, i) => ({ hour_start: (firstHour + i) * HOUR_MS, started: 0, completed: 0, failed: 0 }))
  for (const r of perHour) {
    const b = buckets[r.hour - firstHour]
    if (!b) continue
    // A completed flow is recorded as the connection it created or updated.
    if (r.action === 'flow.started') b.started += r.n
    else if (r.action === 'flow.failed') b.failed += r.n
    else b.completed += r.n
  }
  const grouped = new Map<string, { provider_id: string; reason: string; count: number; last_at: number }>()
  for (const e of failures) {
    const d = e.detail ?? {}
    const reason = String(
      d['reason'] ?? d['error'] ?? d['kind'] ?? (e.action === 'connection.reauth_required' ? 'reauth_required' : 'unknown'),
    )
    const provider = e.provider_id ?? 'unknown'
    const key = `${provider}\u0000${reason}`
    const g = grouped.get(key)
    if (g) {
      g.count++
      g.last_at = Math.max(g.last_at, e.at)
    } else grouped.set(key, { provider_id: provider, reason, count: 1, last_at: e.at })
  }
  return {
    generated_at: now,
    hours,
    connections_by_status: {
      active: byStatus['active'] ?? 0,
      reauth_required: byStatus['reauth_required'] ?? 0,
      revoked: byStatus['revoked'] ?? 0,
    },
    open_flows: open,
    authorizations: buckets,
    refresh_failures: [...grouped.values()].sort((a, b) => b.count - a.count || b.last_at - a.last_at),
  }
}
