/**
 * @module http/routes/admin-dashboard
 * Admin API endpoints the dashboard needs (and any admin client may use): the overview
 * statistics, flows by status, refreshing a connection now, and the audit trail as a CSV or
 * JSON download.
 */
import type { AuditEntry } from '@latchkey/client'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { overviewStats } from '../../broker/admin-stats.js'
import type { BrokerContext } from '../../broker/context.js'
import { LatchkeyError } from '../../errors.js'
import type { DashboardStore } from '../../storage/dashboard-store.js'
import { defineRoute, register } from '../route-spec.js'
import { isoTime, isoTimeOrNull, offsetPage } from '../schema.js'
import { connectionItem, connectionView } from './admin-connections.js'
import { catalogAnswer, listCatalogRoute } from './providers.js'

const TAG = 'admin: dashboard'
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

const statsQuery = z.object({ hours: z.coerce.number().int().min(1).max(168).default(24) })

const statsResponse = z
  .object({
    generated_at: isoTime(),
    hours: z.number().int(),
    connections_by_status: z.object({ active: z.number().int(), reauth_required: z.number().int(), revoked: z.number().int() }),
    open_flows: z.number().int().meta({ description: 'Flows pending, not called back and not expired.' }),
    authorizations: z
      .array(z.object({ hour_start: isoTime(), started: z.number().int(), completed: z.number().int(), failed: z.number().int() }))
      .meta({ description: 'One bucket per hour, oldest first (from the audit trail).' }),
    refresh_failures: z
      .array(z.object({ provider_id: z.string(), reason: z.string(), count: z.number().int(), last_at: isoTime() }))
      .meta({ description: 'Failed refreshes in the window, by provider and reason (from the audit trail), most frequent first.' }),
  })
  .meta({ id: 'OverviewStats' })

export const statsRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/stats',
  operationId: 'getOverviewStats',
  summary: 'Connections by status, authorizations per hour, refresh failures by provider and reason',
  tag: TAG,
  access: 'admin',
  query: statsQuery,
  responses: { 200: { description: 'The overview.', schema: statsResponse } },
  errors: [],
})

const flowsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  status: z.enum(['pending', 'completed', 'failed']).optional(),
  user_id: z.string().max(256).optional(),
  provider_id: z.string().max(100).optional(),
  connection_id: z.string().max(100).optional(),
})

const flowItem = z
  .object({
    id: z.string(),
    user_id: z.string(),
    provider_id: z.string(),
    status: z.enum(['pending', 'completed', 'failed']),
    scopes: z.array(z.string()).meta({ description: 'Scopes asked of the provider (requested and already granted).' }),
    requested_scopes: z.array(z.string()).meta({ description: 'Scopes the app asked for.' }),
    error: z.string().nullable(),
    error_description: z.string().nullable(),
    connection_id: z.string().nullable(),
    opened_at: isoTimeOrNull(),
    callback_at: isoTimeOrNull(),
    created_at: isoTime(),
    expires_at: isoTime(),
    completed_at: isoTimeOrNull(),
  })
  .meta({ id: 'Flow' })

export const listFlowsRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/flows',
  operationId: 'listFlows',
  summary: 'Authorization flows by status (pending, failed with their reason, completed), newest first',
  tag: TAG,
  access: 'admin',
  query: flowsQuery,
  responses: { 200: { description: 'One page of flows (never a state, verifier or grant).', schema: offsetPage(flowItem) } },
  errors: [],
})

export const refreshConnectionRoute = defineRoute({
  method: 'POST',
  path: '/v1/admin/user_connections/:id/refresh',
  operationId: 'refreshUserConnection',
  summary: 'Refresh a connection now, even if its token is not near expiry or cooling down after a failure',
  tag: 'admin: connections',
  access: 'admin',
  params: z.object({ id: z.string() }),
  responses: {
    200: {
      description: 'What the refresh did, and the connection afterwards (never a token).',
      schema: z.object({
        outcome: z.enum(['refreshed', 'not_refreshed', 'reauth_required', 'misconfigured', 'transient']).meta({
          description:
            '`not_refreshed`: nothing to refresh with (no refresh token, or the provider does not refresh) or a newer grant landed meanwhile; the current token stays.',
        }),
        error: z.string().nullable(),
        connection: connectionItem,
      }),
    },
  },
  errors: ['CONNECTION_NOT_FOUND'],
})

const exportQuery = z.object({
  format: z.enum(['csv', 'json']).default('csv'),
  user_id: z.string().max(256).optional(),
  provider_id: z.string().max(100).optional(),
  connection_id: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
  since: z.string().datetime({ offset: true }).optional(),
})

export const exportAuditRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/audit/export',
  operationId: 'exportAudit',
  summary: 'The audit trail (same filters as the listing) as a CSV or JSON download, newest first, at most 100 000 entries',
  tag: 'admin: audit',
  access: 'admin',
  query: exportQuery,
  responses: { 200: { description: '`text/csv` or `application/json` (an array of audit entries), as an attachment.' } },
  errors: [],
})

export const adminCatalogRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/provider_catalog',
  operationId: 'listProviderCatalogAdmin',
  summary: 'The provider catalog and the configured providers, as `GET /v1/providers`, for admin clients (the dashboard)',
  description: 'The same answer as `GET /v1/providers`; here because the dashboard session is accepted on admin routes only.',
  tag: TAG,
  access: 'admin',
  responses: { 200: { description: 'The catalog and the configured providers.', schema: listCatalogRoute.responses[200].schema } },
  errors: [],
})

export const dashboardApiRouteSpecs = [statsRoute, listFlowsRoute, refreshConnectionRoute, exportAuditRoute, adminCatalogRoute]

const NOT_REFRESHED =
  'the token was not refreshed: the connection has no refresh token, its provider does not refresh, or a newer grant replaced it; the current token stays valid until it expires'

const EXPORT_MAX = 100_000
const CSV_COLUMNS = ['id', 'at', 'actor', 'action', 'user_id', 'provider_id', 'connection_id', 'detail'] as const

/** One CSV field: quoted when needed; a leading = + - @ is defused so a spreadsheet does not run it as a formula. */
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function adminDashboardRoutes(app: FastifyInstance, ctx: BrokerContext, store: DashboardStore): void {
  register(app, statsRoute, async (request) => {
    const q = statsQuery.parse(request.query)
    const s = await overviewStats(ctx, store, q.hours)
    return {
      ...s,
      generated_at: new Date(s.generated_at).toISOString(),
      authorizations: s.authorizations.map((b) => ({ ...b, hour_start: new Date(b.hour_start).toISOString() })),
      refresh_failures: s.refresh_failures.map((f) => ({ ...f, last_at: new Date(f.last_at).toISOString() })),
    }
  })

  register(app, adminCatalogRoute, async () => catalogAnswer(ctx))

  register(app, listFlowsRoute, async (request) => {
    const { limit, offset, ...filter } = flowsQuery.parse(request.query)
    const { items, total } = await store.listFlows(filter, limit, offset)
    return {
      items: items.map((f) => ({
        ...f,
        opened_at: iso(f.opened_at),
        callback_at: iso(f.callback_at),
        created_at: new Date(f.created_at).toISOString(),
        expires_at: new Date(f.expires_at).toISOString(),
        completed_at: iso(f.completed_at),
      })),
      limit,
      offset,
      page_count: items.length,
      total_count: total,
    }
  })

  register(app, refreshConnectionRoute, async (request) => {
    const id = request.params.id
    const existing = await ctx.store.getConnectionById(id)
    if (!existing) throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection with id ${JSON.stringify(id)}`)
    const outcome = await ctx.refresher.refresh(id, { force: true, actor: request.apiKey?.id ?? null })
    if (outcome.kind === 'gone') throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection with id ${JSON.stringify(id)}`)
    const latest = (await ctx.store.getConnectionById(id)) ?? outcome.connection ?? existing
    const error =
      outcome.kind === 'misconfigured' || outcome.kind === 'transient'
        ? outcome.error.message
        : outcome.kind === 'reauth_required'
          ? (latest.last_refresh_error ?? 'the connection needs the user to authorize again')
          : outcome.kind === 'fresh' && !outcome.refreshed
            ? NOT_REFRESHED
            : null
    // `fresh` is also what the refresher answers when it could not or need not refresh (no refresh
    // token, refresh disabled, a newer grant): only a new token is `refreshed`.
    const kind = outcome.kind === 'fresh' ? (outcome.refreshed ? ('refreshed' as const) : ('not_refreshed' as const)) : outcome.kind
    return { outcome: kind, error, connection: connectionView(ctx, latest) }
  })

  register(app, exportAuditRoute, async (request, reply) => {
    const { format, since, ...filter } = exportQuery.parse(request.query)
    await ctx.audit.flush()
    const entries: AuditEntry[] = []
    const f = { ...filter, since: since === undefined ? undefined : Date.parse(since) }
    for (let offset = 0; offset < EXPORT_MAX; offset += 1000) {
      const { items } = await ctx.store.listAudit(f, Math.min(1000, EXPORT_MAX - offset), offset)
      for (const e of items) entries.push({ ...e, at: new Date(e.at).toISOString() })
      if (items.length < 1000) break
    }
    const stamp = new Date().toISOString().replaceAll(':', '').slice(0, 15)
    void reply.header('content-disposition', `attachment; filename="latchkey-audit-${stamp}.${format}"`)
    if (format === 'json') return reply.type('application/json; charset=utf-8').send(JSON.stringify(entries))
    const lines = [CSV_COLUMNS.join(',')]
    for (const e of entries) lines.push(CSV_COLUMNS.map((c) => csvField(e[c])).join(','))
    return reply.type('text/csv; charset=utf-8').send(`${lines.join('\r\n')}\r\n`)
  })
}
