/**
 * @module http/routes/providers
 * `GET /v1/providers`: the built-in catalog and which entries are configured here; and
 * Arcade's admin API for providers, `/v1/admin/auth_providers` (wire doc §8). Responses never
 * carry a secret's value, only whether it exists.
 */
import type { ProviderCatalog } from '@latchkey/client'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ProviderAdmin } from '../../broker/admin-providers.js'
import type { BrokerContext } from '../../broker/context.js'
import { LatchkeyError } from '../../errors.js'
import { providerEntrySchema } from '../../providers/arcade-entry.js'
import type { ConfiguredProvider } from '../../providers/configured-provider.js'
import { type CredentialService, credentialCatalog } from '../../providers/credentials/catalog.js'
import { credentialEntrySchema } from '../../providers/credentials/compile.js'
import type { ProviderDefinition } from '../../providers/define-provider.js'
import { defineRoute, register } from '../route-spec.js'
import { offsetPage } from '../schema.js'

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

const source = z
  .enum(['config', 'env', 'admin', 'demo'])
  .meta({ description: 'Where the provider is defined: latchkey.yaml, the environment, the admin API, or dev mode.' })

/** A built-in provider definition and whether this installation has it configured. */
const catalogItem = z
  .object({
    id: z.string(),
    display_name: z.string(),
    docs_url: z.union([z.string(), z.array(z.string()).readonly()]),
    api_base_urls: z
      .array(z.string())
      .readonly()
      .meta({ description: 'Where the proxy (`/v1/proxy/<id>/…`) may forward, with `{setting}` templates unfilled; empty: not proxied.' }),
    configured: z.boolean().meta({ description: 'Some provider of this type has a client secret.' }),
    configured_ids: z.array(z.string()),
    settings: z.record(z.string(), z.object({ description: z.string(), example: z.string(), default: z.string().nullable() })),
    scope_delimiter: z.enum([' ', ',']),
    pkce: z.enum(['required', 'supported', 'unsupported']),
    refresh_tokens: z.enum(['rotating', 'static', 'none']),
    revocation: z.boolean(),
    kind: z.enum(['oauth2', 'api_key', 'basic']).meta({
      description: 'How a person connects: an OAuth 2.0 sign-in, or a credential entered on Latchkey’s page (API key, HTTP Basic).',
    }),
    credential: z
      .object({
        labels: z
          .object({ secret: z.string().optional(), username: z.string().optional() })
          .meta({ description: 'What the credential page calls each field (`Account SID`, `Auth Token`).' }),
        api_origin: z.string().meta({ description: 'The API the credential is for (what the proxy forwards to).' }),
      })
      .optional()
      .meta({ description: 'For `api_key` and `basic` services only.' }),
  })
  .meta({ id: 'CatalogProvider' })

const providersResponse = z.object({
  items: z.array(catalogItem),
  configured: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      description: z.string(),
      enabled: z.boolean(),
      source,
      api_base_urls: z
        .array(z.string())
        .meta({ description: 'The proxy’s API base URLs for this provider (what `Latchkey-Api-Base` may name).' }),
    }),
  ),
})

const endpoint = z.object({ endpoint: z.string() })

/** Arcade's AuthProviderResponse; a secret appears only as whether it exists. */
const authProvider = z
  .object({
    id: z.string(),
    description: z.string(),
    provider_id: z.string().optional().meta({ description: 'The catalog type (`google`); absent for a custom OAuth 2.0 provider.' }),
    type: z
      .enum(['oauth2', 'api_key', 'basic'])
      .meta({ description: 'Arcade knows `oauth2`; Latchkey adds `api_key` and `basic` (credential providers, which have no client).' }),
    status: z.enum(['active', 'inactive']),
    binding: z.object({ type: z.literal('static') }),
    source,
    oauth2: z.object({
      client_id: z.string(),
      client_secret: z.object({ binding: z.literal('static'), editable: z.boolean(), exists: z.boolean() }),
      redirect_uri: z.string(),
      scope_delimiter: z.enum([' ', ',']),
      pkce: z.object({ enabled: z.boolean(), code_challenge_method: z.literal('S256') }),
      authorize_request: endpoint,
      token_request: endpoint.extend({ auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']) }),
      refresh_request: endpoint.optional(),
      user_info_request: endpoint.optional(),
    }),
    credential: z
      .object({
        kind: z.enum(['api_key', 'basic']),
        service: z.string().optional().meta({ description: 'The credential catalog service (`openai`); absent for a custom one.' }),
        api_origin: z.string(),
        header: z.string().meta({ description: 'The header the credential goes in (its value is never shown).' }),
        validation_url: z.string().optional(),
      })
      .optional()
      .meta({
        description:
          'Latchkey extension: an API-key or Basic provider (entry `type: api_key|basic` or `service:`). It has no client: `oauth2` holds placeholders (the API origin).',
      }),
    mcp: z
      .object({ server_url: z.string(), resource_parameter: z.boolean(), scopes: z.array(z.string()).optional() })
      .optional()
      .meta({
        description:
          'Latchkey extension: a remote MCP server (entry `type: mcp`). Its OAuth endpoints are discovered per flow; the `oauth2` endpoints shown are placeholders (the server URL).',
      }),
  })
  .meta({ id: 'AuthProvider' })

const providerIdParams = z.object({ id: z.string() })
const ADMIN_PROVIDERS = 'admin: auth providers'

export const listCatalogRoute = defineRoute({
  method: 'GET',
  path: '/v1/providers',
  operationId: 'listProviders',
  summary: 'The built-in provider catalog, and the providers configured here',
  tag: 'providers',
  access: 'runtime',
  responses: { 200: { description: 'The catalog and the configured providers.', schema: providersResponse } },
  errors: [],
})

export const listAuthProvidersRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/auth_providers',
  operationId: 'listAuthProviders',
  summary: 'Every configured provider',
  tag: ADMIN_PROVIDERS,
  access: 'admin',
  responses: { 200: { description: 'All providers, as one page.', schema: offsetPage(authProvider) } },
  errors: [],
})

export const getAuthProviderRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/auth_providers/:id',
  operationId: 'getAuthProvider',
  summary: 'One provider',
  tag: ADMIN_PROVIDERS,
  access: 'admin',
  params: providerIdParams,
  responses: { 200: { description: 'The provider.', schema: authProvider } },
  errors: ['PROVIDER_UNKNOWN'],
})

export const createAuthProviderRoute = defineRoute({
  method: 'POST',
  path: '/v1/admin/auth_providers',
  operationId: 'createAuthProvider',
  summary: 'Add a provider (an engine.yaml `auth.providers` entry)',
  description:
    'A catalog provider by `provider_id`, or a custom OAuth 2.0 provider by its `oauth2` block. The client secret is stored encrypted and never shown again. ' +
    'Latchkey extension: an API-key or Basic provider by `service` (a credential catalog service such as `openai`) or `type: api_key|basic` with its header, format and validation URL; it holds no secret (each person enters theirs).',
  tag: ADMIN_PROVIDERS,
  access: 'admin',
  body: z.union([providerEntrySchema, credentialEntrySchema]),
  responses: { 201: { description: 'The new provider.', schema: authProvider } },
  errors: ['BAD_REQUEST', 'CONFLICT'],
})

export const patchAuthProviderRoute = defineRoute({
  method: 'PATCH',
  path: '/v1/admin/auth_providers/:id',
  operationId: 'patchAuthProvider',
  summary: 'Change a provider added through this API',
  description: 'The body is merged into the stored entry, and the result is validated as a whole.',
  tag: ADMIN_PROVIDERS,
  access: 'admin',
  params: providerIdParams,
  body: z.union([providerEntrySchema.partial(), credentialEntrySchema.partial()]),
  responses: { 200: { description: 'The changed provider.', schema: authProvider } },
  errors: ['BAD_REQUEST', 'PROVIDER_UNKNOWN'],
})

export const deleteAuthProviderRoute = defineRoute({
  method: 'DELETE',
  path: '/v1/admin/auth_providers/:id',
  operationId: 'deleteAuthProvider',
  summary: 'Remove a provider added through this API',
  tag: ADMIN_PROVIDERS,
  access: 'admin',
  params: providerIdParams,
  responses: { 200: { description: 'The removed provider.', schema: authProvider } },
  errors: ['BAD_REQUEST', 'PROVIDER_UNKNOWN'],
})

export const providerRouteSpecs = [
  listCatalogRoute,
  listAuthProvidersRoute,
  getAuthProviderRoute,
  createAuthProviderRoute,
  patchAuthProviderRoute,
  deleteAuthProviderRoute,
]

export function catalogView(def: ProviderDefinition, configured: ConfiguredProvider[]): z.infer<typeof catalogItem> {
  return {
    id: def.id,
    display_name: def.displayName,
    docs_url: def.docsUrl,
    api_base_urls: def.apiBaseUrls ?? [],
    configured: configured.some((p) => p.type === def.id && p.clientSecret !== undefined),
    configured_ids: configured.filter((p) => p.type === def.id).map((p) => p.id),
    settings: Object.fromEntries(
      Object.entries(def.settings ?? {}).map(([k, s]) => [
        k,
        { description: s.description, example: s.example, default: s.default ?? null },
      ]),
    ),
    scope_delimiter: def.scopeDelimiter,
    pkce: def.pkce,
    refresh_tokens: def.refreshTokens,
    revocation: def.revocationEndpoint !== undefined,
    kind: 'oauth2',
  }
}

/** A credential catalog service (API key, Basic): configured when some provider has it as its type (there is no client secret). */
export function credentialCatalogView(service: CredentialService, configured: ConfiguredProvider[]): z.infer<typeof catalogItem> {
  const ids = configured.filter((p) => p.type === service.id && p.def.credential).map((p) => p.id)
  return {
    id: service.id,
    display_name: service.displayName,
    docs_url: service.docsUrl,
    api_base_urls: [service.apiOrigin],
    configured: ids.length > 0,
    configured_ids: ids,
    settings: {},
    scope_delimiter: ' ',
    pkce: 'unsupported',
    refresh_tokens: 'none',
    revocation: false,
    kind: service.credential.kind,
    credential: { labels: { ...service.credential.labels }, api_origin: service.apiOrigin },
  }
}

export function providerView(ctx: BrokerContext, p: ConfiguredProvider): z.infer<typeof authProvider> {
  const d = p.def
  const c = d.credential
  return {
    id: p.id,
    description: p.description,
    provider_id: p.type === 'oauth2' || p.mcp || (c && p.entry['service'] === undefined) ? undefined : p.type,
    type: c ? c.kind : 'oauth2',
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
    ...(c
      ? {
          credential: {
            kind: c.kind,
            ...(typeof p.entry['service'] === 'string' ? { service: p.entry['service'] } : {}),
            api_origin: d.apiBaseUrls?.[0] ?? d.authorizationEndpoint,
            header: c.header,
            ...(c.validation ? { validation_url: c.validation.url } : {}),
          },
        }
      : {}),
    ...(p.mcp
      ? {
          mcp: {
            server_url: p.mcp.serverUrl,
            resource_parameter: p.mcp.resourceParameter,
            ...(p.mcp.scopes ? { scopes: [...p.mcp.scopes] } : {}),
          },
        }
      : {}),
  }
}

/** The catalog and the configured providers: `GET /v1/providers`, and the dashboard's admin copy of it. */
export function catalogAnswer(ctx: BrokerContext) {
  const configured = ctx.registry.list()
  return {
    items: [
      ...Object.values(ctx.registry.catalog).map((def) => catalogView(def, configured)),
      ...Object.values(credentialCatalog).map((service) => credentialCatalogView(service, configured)),
    ],
    configured: configured.map((p) => ({
      id: p.id,
      type: p.type,
      description: p.description,
      enabled: p.enabled,
      source: p.source,
      api_base_urls: [...(p.def.apiBaseUrls ?? [])],
    })),
  } satisfies ProviderCatalog
}

export function providerRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(app, listCatalogRoute, async () => catalogAnswer(ctx))
}

export function adminProviderRoutes(app: FastifyInstance, ctx: BrokerContext, admin: ProviderAdmin): void {
  const page = <T>(items: T[]) => ({ items, limit: items.length, offset: 0, page_count: items.length, total_count: items.length })
  const body = (b: unknown): Record<string, unknown> => {
    if (exceedsDepth(b, MAX_BODY_DEPTH))
      throw new LatchkeyError('BAD_REQUEST', `request body is nested more than ${MAX_BODY_DEPTH} levels deep`)
    return b !== null && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {}
  }
  const actor = (r: { apiKey: { id: string } | undefined }) => r.apiKey?.id ?? null

  register(app, listAuthProvidersRoute, async () => page(ctx.registry.list().map((p) => providerView(ctx, p))))
  register(app, getAuthProviderRoute, async (request) => {
    const p = ctx.registry.get(request.params.id)
    if (!p) throw new LatchkeyError('PROVIDER_UNKNOWN', `no provider with id ${JSON.stringify(request.params.id)}`)
    return providerView(ctx, p)
  })
  register(app, createAuthProviderRoute, async (request, reply) => {
    return reply.status(201).send(providerView(ctx, await admin.create(body(request.body), actor(request))))
  })
  register(app, patchAuthProviderRoute, async (request) => {
    return providerView(ctx, await admin.patch(request.params.id, body(request.body), actor(request)))
  })
  register(app, deleteAuthProviderRoute, async (request) => {
    return providerView(ctx, await admin.remove(request.params.id, actor(request)))
  })
}
