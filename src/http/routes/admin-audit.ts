/**
 * @module http/routes/admin-audit
 * `GET /v1/admin/audit`: who got which user's token, and every change to connections and keys.
 */
import type { AuditEntry, Page } from '@latchkey/client'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { defineRoute, register } from '../route-spec.js'
import { offsetPage } from '../schema.js'

const query = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  user_id: z.string().max(256).optional(),
  provider_id: z.string().max(100).optional(),
  connection_id: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
  since: z.string().datetime({ offset: true }).optional(),
})

/** One audit record; `detail` holds non-secret details (ids, scopes, roles). */
const auditEntry = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    actor: z.string().nullable().meta({ description: 'The API key id that acted, or null (CLI, background refresh).' }),
    action: z.string().meta({ examples: ['token.issued', 'flow.started', 'api_key.created'] }),
    user_id: z.string().nullable(),
    provider_id: z.string().nullable(),
    connection_id: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEntry' })

export const listAuditRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/audit',
  operationId: 'listAudit',
  summary: "Who got which user's token, and every change to connections and keys, newest first",
  tag: 'admin: audit',
  access: 'admin',
  query,
  responses: { 200: { description: 'One page of audit records.', schema: offsetPage(auditEntry) } },
  errors: [],
})

export const auditRouteSpecs = [listAuditRoute]

export function adminAuditRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(app, listAuditRoute, async (request) => {
    const q = query.parse(request.query)
    await ctx.audit.flush()
    const { limit, offset, since, ...filter } = q
    const { items, total } = await ctx.store.listAudit(
      { ...filter, since: since === undefined ? undefined : Date.parse(since) },
      limit,
      offset,
    )
    return {
      items: items.map((e): AuditEntry => ({ ...e, at: new Date(e.at).toISOString() })),
      limit,
      offset,
      page_count: items.length,
      total_count: total,
    } satisfies Page<AuditEntry>
  })
}
