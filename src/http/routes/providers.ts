/**
 * @module http/routes/providers
 * `GET /v1/providers`: the built-in catalog and which entries are configured here; and
 * Arcade's admin API for providers, `/v1/admin/auth_providers` (wire doc §8). Responses never
 * carry a secret's value, only whether it exists.
 */
import type { FastifyInstance } from 'fastify'
import type { BrokerContext } from '../../broker/context.js'
import type { ProviderAdmin } from '../../broker/admin-providers.js'
import type { ConfiguredProvider } from '../../providers/configured-provider.js'
import type { ProviderDefinition } from '../../providers/define-provider.js'
import { LatchkeyError } from '../../errors.js'

/** A provider body is a few levels deep; a much deeper one (junk under any key) would overflow the recursive merge and JSON serialisation. */
const MAX_BODY_DEPTH = 32

function exceedsDepth(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth > max) return true
    for (const child of Object.values(v)) stack.push([child, depth + 1])
  }
  return false
}

export function catalogView(def: ProviderDefinition, configured: ConfiguredProvider[]) {
  return {
    id: def.id,
    display_name: def.displayName,
    docs_url: def.docsUrl,
    configured: configured.some((p) => p.type === def.id && p.clientSecret !== undefined),
    configured_ids: configured.filter((p) => p.type === def.id).map((p) => p.id),
    settings: Object.fromEntries(Object.entries(def.settings ?? {}).map(([k, s]) => [k, { description: s.description, example: s.example, default: s.default ?? null }])),
    scope_delimiter: def.scopeDelimiter,
    pkce: def.pkce,
    refresh_tokens: def.refreshTokens,
    revocation: def.revocationEndpoint !== undefined,
  }
}

export function providerView(ctx: BrokerContext, p: ConfiguredProvider) {
  const d = p.def
  return {
    id: p.id,
    description: p.description,
    provider_id: p.type === 'oauth2' ? undefined : p.type,
    type: 'oauth2',
    status: p.enabled ? 'active' : 'inactive',
    binding: { type: 'static' },
    source: p.source,
    oauth2: {
      client_id: p.clientId,
      client_secret: { binding: 'static', editable: p.source === 'admin', exists: p.clientSecret !== undefined },
      redirect_uri: ctx.redirectUri,
      scope_delimiter: d.scopeDelimiter,
      pkce: { enabled: d.pkce !== 'unsupported', code_challenge_method: 'S256' },
      authorize_request: { endpoint: d.authorizationEndpoint },
      token_request: { endpoint: d.tokenEndpoint, auth_method: d.tokenEndpointAuthMethod },
      ...(p.refreshEnabled ? { refresh_request: { endpoint: d.refreshEndpoint ?? d.tokenEndpoint } } : {}),
      ...(d.userInfo ? { user_info_request: { endpoint: d.userInfo.endpoint } } : {}),
    },
  }
}

export function providerRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  app.get('/v1/providers', async () => {
    const configured = ctx.registry.list()
    return {
      items: Object.values(ctx.registry.catalog).map((def) => catalogView(def, configured)),
      configured: configured.map((p) => ({ id: p.id, type: p.type, description: p.description, enabled: p.enabled, source: p.source })),
    }
  })
}

export function adminProviderRoutes(app: FastifyInstance, ctx: BrokerContext, admin: ProviderAdmin): void {
  const page = (items: unknown[]) => ({ items, limit: items.length, offset: 0, page_count: items.length, total_count: items.length })
  const body = (b: unknown): Record<string, unknown> => {
    if (exceedsDepth(b, MAX_BODY_DEPTH)) throw new LatchkeyError('BAD_REQUEST', `request body is nested more than ${MAX_BODY_DEPTH} levels deep`)
    return b !== null && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {}
  }
  const actor = (r: { apiKey: { id: string } | undefined }) => r.apiKey?.id ?? null

  app.get('/v1/admin/auth_providers', async () => page(ctx.registry.list().map((p) => providerView(ctx, p))))
  app.get<{ Params: { id: string } }>('/v1/admin/auth_providers/:id', async (request) => {
    const p = ctx.registry.get(request.params.id)
    if (!p) throw new LatchkeyError('PROVIDER_UNKNOWN', `no provider with id ${JSON.stringify(request.params.id)}`)
    return providerView(ctx, p)
  })
  app.post('/v1/admin/auth_providers', async (request, reply) => {
    return reply.status(201).send(providerView(ctx, await admin.create(body(request.body), actor(request))))
  })
  app.patch<{ Params: { id: string } }>('/v1/admin/auth_providers/:id', async (request) => {
    return providerView(ctx, await admin.patch(request.params.id, body(request.body), actor(request)))
  })
  app.delete<{ Params: { id: string } }>('/v1/admin/auth_providers/:id', async (request) => {
    return providerView(ctx, await admin.remove(request.params.id, actor(request)))
  })
}
