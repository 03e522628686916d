/**
 * @module http/routes/admin-connections
 * Arcade's `GET /v1/admin/user_connections` (filters flat `user_id`/`provider_id` and bracketed
 * `user[id]`/`provider[id]`) and `DELETE /v1/admin/user_connections/:id` → 204, plus
 * `GET /v1/admin/user_connections/:id` for the full state of one connection.
 */
import type { Connection, Page } from '@latchkey/client'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { deleteConnection } from '../../broker/delete-connection.js'
import { LatchkeyError } from '../../errors.js'
import type { ConnectionRow } from '../../storage/store.js'
import { defineRoute, register } from '../route-spec.js'
import { isoTime, isoTimeOrNull, offsetPage } from '../schema.js'

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(25),
  offset: z.coerce.number().int().min(0).default(0),
  user_id: z.string().max(256).optional(),
  provider_id: z.string().max(100).optional(),
  'user[id]': z.string().max(256).optional(),
  'provider[id]': z.string().max(100).optional(),
  status: z.enum(['active', 'reauth_required', 'revoked']).optional(),
  account: z.string().max(256).optional().meta({ description: "The provider account's id or label, exactly." }),
})

const idParams = z.object({ id: z.string().meta({ description: 'The connection id (`cn_…`).' }) })

/** Arcade's connection item plus Latchkey's lifecycle fields (never a token). */
export const connectionItem = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    connection_status: z.enum(['active', 'reauth_required', 'revoked']),
    provider_id: z.string(),
    provider_type: z.literal('oauth2'),
    provider_description: z.string(),
    provider_user_info: z.record(z.string(), z.unknown()),
    scopes: z.array(z.string()).meta({ description: 'The scopes granted: what the provider said it granted, else what was asked for.' }),
    requested_scopes: z
      .array(z.string())
      .nullable()
      .meta({
        description:
          "Latchkey extension: the scopes the last grant asked the provider for (the app's request plus scopes granted before). " +
          '`null` when not recorded (a connection granted before migration 0012-connection-requested-scopes).',
      }),
    user_id: z.string(),
    account: z.object({ id: z.string().nullable(), label: z.string().nullable() }),
    default: z.boolean().meta({
      description: "Latchkey extension: the user's default connection for the provider (what authorize without `account` answers with).",
    }),
    has_refresh_token: z.boolean(),
    expires_at: isoTimeOrNull(),
    refresh_token_expires_at: isoTimeOrNull(),
    created_at: isoTime(),
    updated_at: isoTime(),
    last_used_at: isoTimeOrNull(),
    last_refresh_at: isoTimeOrNull(),
    last_refresh_error: z.string().nullable(),
    refresh_failures: z.number().int(),
  })
  .meta({ id: 'Connection' })

export const listConnectionsRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/user_connections',
  operationId: 'listUserConnections',
  summary: "Users' connections, filtered by user, provider, status or account",
  description:
    'Filters are accepted flat (`user_id`, `provider_id`) and bracketed (`user[id]`, `provider[id]`, what older Arcade SDKs send).',
  tag: 'admin: connections',
  access: 'admin',
  query: listQuery,
  responses: { 200: { description: 'One page of connections.', schema: offsetPage(connectionItem) } },
  errors: [],
})

export const getConnectionRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/user_connections/:id',
  operationId: 'getUserConnection',
  summary: 'One connection',
  tag: 'admin: connections',
  access: 'admin',
  params: idParams,
  responses: { 200: { description: 'The connection.', schema: connectionItem } },
  errors: ['CONNECTION_NOT_FOUND'],
})

export const deleteConnectionRoute = defineRoute({
  method: 'DELETE',
  path: '/v1/admin/user_connections/:id',
  operationId: 'deleteUserConnection',
  summary: 'Delete a connection, revoking its token at the provider where it can',
  tag: 'admin: connections',
  access: 'admin',
  params: idParams,
  responses: {
    204: {
      description: 'Deleted.',
      headers: z.object({
        'x-latchkey-provider-revocation': z
          .enum(['revoked', 'not_supported', 'failed', 'skipped'])
          .meta({ description: 'What the provider said to the revocation.' }),
      }),
    },
  },
  errors: ['CONNECTION_NOT_FOUND'],
})

export const connectionRouteSpecs = [listConnectionsRoute, getConnectionRoute, deleteConnectionRoute]

export function connectionView(ctx: BrokerContext, c: ConnectionRow): z.infer<typeof connectionItem> {
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
    requested_scopes: c.requested_scopes,
    user_id: c.user_id,
    account: { id: c.account_id, label: c.account_label },
    default: c.is_default === 1,
    has_refresh_token: c.refresh_token_enc !== null,
    expires_at: iso(c.expires_at),
    refresh_token_expires_at: iso(c.refresh_token_expires_at),
    created_at: new Date(c.created_at).toISOString(),
    updated_at: new Date(c.updated_at).toISOString(),
    last_used_at: iso(c.last_used_at),
    last_refresh_at: iso(c.last_refresh_at),
    last_refresh_error: c.last_refresh_error,
    refresh_failures: c.refresh_failures,
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function adminConnectionRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(app, listConnectionsRoute, async (request) => {
    const q = listQuery.parse(request.query)
    const filter = {
      user_id: q.user_id ?? q['user[id]'],
      provider_id: q.provider_id ?? q['provider[id]'],
      status: q.status,
      account: q.account,
    }
    // Last uses are written in batches: write what is pending so the listing shows it.
    await ctx.lastUse.flush()
    const { items, total } = await ctx.store.listConnections(filter, q.limit, q.offset)
    return {
      items: items.map((c) => connectionView(ctx, c)),
      limit: q.limit,
      offset: q.offset,
      page_count: items.length,
      total_count: total,
    } satisfies Page<Connection>
  })

  register(app, getConnectionRoute, async (request) => {
    await ctx.lastUse.flush()
    const c = await ctx.store.getConnectionById(request.params.id)
    if (!c) throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection with id ${JSON.stringify(request.params.id)}`)
    return connectionView(ctx, c)
  })

  register(app, deleteConnectionRoute, async (request, reply) => {
    const c = await ctx.store.getConnectionById(request.params.id)
    if (!c) throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection with id ${JSON.stringify(request.params.id)}`)
    const result = await deleteConnection(ctx, c, request.apiKey?.id ?? null)
    return reply.status(204).header('x-latchkey-provider-revocation', result.providerRevocation).send()
  })
}
