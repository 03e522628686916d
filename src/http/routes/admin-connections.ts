/**
 * @module http/routes/admin-connections
 * Arcade's `GET /v1/admin/user_connections` (filters flat `user_id`/`provider_id` and bracketed
 * `user[id]`/`provider[id]`) and `DELETE /v1/admin/user_connections/:id` → 204, plus
 * `GET /v1/admin/user_connections/:id` for the full state of one connection.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { deleteConnection } from '../../broker/delete-connection.js'
import { LatchkeyError } from '../../errors.js'
import type { ConnectionRow } from '../../storage/store.js'

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(25),
  offset: z.coerce.number().int().min(0).default(0),
  user_id: z.string().max(256).optional(),
  provider_id: z.string().max(100).optional(),
  'user[id]': z.string().max(256).optional(),
  'provider[id]': z.string().max(100).optional(),
  status: z.enum(['active', 'reauth_required', 'revoked']).optional(),
})

/** Arcade's connection item plus Latchkey's lifecycle fields (never a token). */
export function connectionView(ctx: BrokerContext, c: ConnectionRow) {
  const provider = ctx.registry.get(c.provider_id)
  return {
    id: c.id,
    connection_id: c.id,
    connection_status: c.status,
    provider_id: c.provider_id,
    provider_type: 'oauth2',
    provider_description: provider?.description ?? c.provider_id,
    provider_user_info: c.user_info ?? {},
    scopes: c.scopes,
    user_id: c.user_id,
    account: { id: c.account_id, label: c.account_label },
    has_refresh_token: c.refresh_token_enc !== null,
    expires_at: iso(c.expires_at),
    refresh_token_expires_at: iso(c.refresh_token_expires_at),
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
    last_used_at: iso(c.last_used_at),
    last_refresh_at: iso(c.last_refresh_at),
    last_refresh_error: c.last_refresh_error,
    refresh_failures: c.refresh_failures,
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function adminConnectionRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  app.get('/v1/admin/user_connections', async (request) => {
    const q = listQuery.parse(request.query)
    const filter = { user_id: q.user_id ?? q['user[id]'], provider_id: q.provider_id ?? q['provider[id]'], status: q.status }
    const { items, total } = await ctx.store.listConnections(filter, q.limit, q.offset)
    return {
      items: items.map((c) => connectionView(ctx, c)),
      limit: q.limit,
      offset: q.offset,
      page_count: items.length,
      total_count: total,
    }
  })

  app.get<{ Params: { id: string } }>('/v1/admin/user_connections/:id', async (request) => {
    const c = await ctx.store.getConnectionById(request.params.id)
    if (!c) throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection with id ${JSON.stringify(request.params.id)}`)
    return connectionView(ctx, c)
  })

  app.delete<{ Params: { id: string } }>('/v1/admin/user_connections/:id', async (request, reply) => {
    const c = await ctx.store.getConnectionById(request.params.id)
    if (!c) throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection with id ${JSON.stringify(request.params.id)}`)
    const result = await deleteConnection(ctx, c, request.apiKey?.id ?? null)
    return reply.status(204).header('x-latchkey-provider-revocation', result.providerRevocation).send()
  })
}
