/**
 * @module http/routes/admin-keys
 * API keys over HTTP (admin role): list (id and metadata only, never a secret), create
 * (the key is in this one response and nowhere else), revoke.
 */
import type { ApiKey, Page } from '@latchkey/client'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ApiKeys } from '../../broker/api-keys.js'
import type { BrokerContext } from '../../broker/context.js'
import { LatchkeyError } from '../../errors.js'
import type { ApiKeyRow } from '../../storage/store.js'
import { defineRoute, register } from '../route-spec.js'
import { isoTime, isoTimeOrNull, offsetPage } from '../schema.js'

const createBody = z.object({
  // Names are printed by `latchkey keys list`; no control characters (PostgreSQL also refuses NUL).
  name: z
    .string()
    .min(1)
    .max(100)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern exists to find them
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters'),
  role: z.enum(['admin', 'runtime']).default('runtime'),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
})

/** An API key's id and metadata; its secret is never in it. */
export const apiKeyItem = z
  .object({
    id: z.string(),
    prefix: z.string().meta({ description: 'How the key starts (`lk_<id>_`), to recognise it.' }),
    name: z.string(),
    role: z.enum(['admin', 'runtime']),
    status: z.enum(['active', 'revoked', 'expired']),
    created_at: isoTime(),
    expires_at: isoTimeOrNull(),
    revoked_at: isoTimeOrNull(),
    last_used_at: isoTimeOrNull(),
  })
  .meta({ id: 'ApiKey' })

const createdKey = apiKeyItem.extend({ key: z.string().meta({ description: 'The API key itself: shown in this response only.' }) })

export const listApiKeysRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/api_keys',
  operationId: 'listApiKeys',
  summary: 'Every API key (metadata only)',
  tag: 'admin: API keys',
  access: 'admin',
  responses: { 200: { description: 'All keys, as one page.', schema: offsetPage(apiKeyItem) } },
  errors: [],
})

export const createApiKeyRoute = defineRoute({
  method: 'POST',
  path: '/v1/admin/api_keys',
  operationId: 'createApiKey',
  summary: 'Create an API key',
  tag: 'admin: API keys',
  access: 'admin',
  body: createBody,
  responses: { 201: { description: 'The new key, with its secret (`key`) in this response only.', schema: createdKey } },
  errors: ['BAD_REQUEST'],
})

export const revokeApiKeyRoute = defineRoute({
  method: 'DELETE',
  path: '/v1/admin/api_keys/:id',
  operationId: 'revokeApiKey',
  summary: 'Revoke an API key',
  tag: 'admin: API keys',
  access: 'admin',
  params: z.object({ id: z.string() }),
  responses: { 200: { description: 'The revoked key.', schema: apiKeyItem } },
  errors: ['API_KEY_NOT_FOUND'],
})

export const apiKeyRouteSpecs = [listApiKeysRoute, createApiKeyRoute, revokeApiKeyRoute]

export function apiKeyView(k: ApiKeyRow, now = Date.now()): z.infer<typeof apiKeyItem> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
  return {
    id: k.id,
    prefix: `lk_${k.id}_`,
    name: k.name,
    role: k.role,
    status: k.revoked_at !== null ? 'revoked' : k.expires_at !== null && k.expires_at <= now ? 'expired' : 'active',
    created_at: new Date(k.created_at).toISOString(),
    expires_at: iso(k.expires_at),
    revoked_at: iso(k.revoked_at),
    last_used_at: iso(k.last_used_at),
  }
}

export function adminKeyRoutes(app: FastifyInstance, ctx: BrokerContext, apiKeys: ApiKeys): void {
  register(app, listApiKeysRoute, async () => {
    const items = (await ctx.store.listApiKeys()).map((k) => apiKeyView(k))
    return { items, limit: items.length, offset: 0, page_count: items.length, total_count: items.length } satisfies Page<ApiKey>
  })

  register(app, createApiKeyRoute, async (request, reply) => {
    const body = createBody.parse(request.body)
    const { key, row } = await apiKeys.create({
      name: body.name,
      role: body.role,
      expiresAt: body.expires_in_days === undefined ? null : Date.now() + body.expires_in_days * 86_400_000,
    })
    ctx.audit.record({ actor: request.apiKey?.id ?? null, action: 'api_key.created', detail: { key_id: row.id, role: row.role } })
    return reply
      .status(201)
      .header('cache-control', 'no-store')
      .send({ ...apiKeyView(row), key } satisfies z.infer<typeof createdKey>)
  })

  register(app, revokeApiKeyRoute, async (request) => {
    const id = request.params.id
    if (!(await apiKeys.revoke(id))) throw new LatchkeyError('API_KEY_NOT_FOUND', `no active API key with id ${JSON.stringify(id)}`)
    ctx.audit.record({ actor: request.apiKey?.id ?? null, action: 'api_key.revoked', detail: { key_id: id } })
    const row = await ctx.store.getApiKey(id)
    return apiKeyView(row!)
  })
}
