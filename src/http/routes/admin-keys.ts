/**
 * @module http/routes/admin-keys
 * API keys over HTTP (admin role): list (id and metadata only, never a secret), create
 * (the key is in this one response and nowhere else), revoke.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ApiKeys } from '../../broker/api-keys.js'
import type { BrokerContext } from '../../broker/context.js'
import { LatchkeyError } from '../../errors.js'
import type { ApiKeyRow } from '../../storage/store.js'

const createBody = z.object({
  // Names are printed by `latchkey keys list`; no control characters (PostgreSQL also refuses NUL).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern exists to find them
  name: z.string().min(1).max(100).refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters'),
  role: z.enum(['admin', 'runtime']).default('runtime'),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
})

export function apiKeyView(k: ApiKeyRow, now = Date.now()) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
  return {
    id: k.id,
    prefix: `lk_${k.id}_`,
    name: k.name,
    role: k.role,
    status: k.revoked_at !== null ? 'revoked' : k.expires_at !== null && k.expires_at <= now ? 'expired' : 'active',
    created_at: iso(k.created_at),
    expires_at: iso(k.expires_at),
    revoked_at: iso(k.revoked_at),
    last_used_at: iso(k.last_used_at),
  }
}

export function adminKeyRoutes(app: FastifyInstance, ctx: BrokerContext, apiKeys: ApiKeys): void {
  app.get('/v1/admin/api_keys', async () => {
    const items = (await ctx.store.listApiKeys()).map((k) => apiKeyView(k))
    return { items, limit: items.length, offset: 0, page_count: items.length, total_count: items.length }
  })

  app.post('/v1/admin/api_keys', async (request, reply) => {
    const body = createBody.parse(request.body)
    const { key, row } = await apiKeys.create({
      name: body.name,
      role: body.role,
      expiresAt: body.expires_in_days === undefined ? null : Date.now() + body.expires_in_days * 86_400_000,
    })
    ctx.audit.record({ actor: request.apiKey?.id ?? null, action: 'api_key.created', detail: { key_id: row.id, role: row.role } })
    return reply.status(201).header('cache-control', 'no-store').send({ ...apiKeyView(row), key })
  })

  app.delete<{ Params: { id: string } }>('/v1/admin/api_keys/:id', async (request) => {
    const id = request.params.id
    if (!(await apiKeys.revoke(id))) throw new LatchkeyError('API_KEY_NOT_FOUND', `no active API key with id ${JSON.stringify(id)}`)
    ctx.audit.record({ actor: request.apiKey?.id ?? null, action: 'api_key.revoked', detail: { key_id: id } })
    const row = await ctx.store.getApiKey(id)
    return apiKeyView(row!)
  })
}
