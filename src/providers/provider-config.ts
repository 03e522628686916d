/**
 * @module providers/provider-config
 * Provider entries (Arcade's engine.yaml shape, see `arcade-entry.ts`) validated and compiled
 * into a `ConfiguredProvider`: a catalog definition (by `provider_id`) or a full custom `oauth2`
 * block, plus client credentials. The compile steps live in `compile-provider.ts`.
 */
import { ConfigError, formatPath } from '../config.js'
import { compileExpression } from '../oauth/expressions.js'
import type { OutboundGuard } from '../oauth/outbound-guard.js'
import { arcadeFieldName, fromArcadeOauth2, providerEntrySchema } from './arcade-entry.js'
import { checkApiBaseUrl, checkEndpoint, endpointsOf, expressionsOf, fillDefinition, resolveSettings } from './compile-provider.js'
import type { ConfiguredProvider } from './configured-provider.js'
import { compileCredentialEntry, isCredentialEntry } from './credentials/compile.js'
import type { ProviderDefinition } from './define-provider.js'
import { compileMcpEntry } from './mcp-entry.js'

export interface CompileContext {
  /** Built-in catalog by id. */
  catalog: Readonly<Record<string, ProviderDefinition>>
  /** Allow http:// endpoints on loopback (development and tests). */
  allowInsecureLoopback: boolean
  /**
   * The SSRF guard: endpoints Latchkey calls (all but the authorization endpoint, which only the
   * user's browser opens) must pass its literal checks. Names are resolved per request.
   */
  guard?: OutboundGuard
  source: ConfiguredProvider['source']
  /** Prefix for error messages, e.g. `latchkey.yaml: auth.providers[2] (id: hooli)`. */
  where: string
}

/** Validates and compiles one provider entry; errors name the entry and the field. */
export function compileProviderEntry(raw: unknown, ctx: CompileContext): ConfiguredProvider {
  // API-key and Basic providers (`type: api_key|basic`, or `service: openai`): no client, no secret here.
  if (isCredentialEntry(raw)) return compileCredentialEntry(raw, ctx)
  const parsed = providerEntrySchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(`${ctx.where}: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`)
  }
  const entry = parsed.data
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${ctx.where}: ${field}: ${message}`)
  }
  if (entry.type === 'mcp' || entry.mcp !== undefined) return compileMcpEntry(entry, ctx, fail)
  const clientId = entry.client_id ?? entry.oauth2?.client_id
  const clientSecret = entry.client_secret ?? entry.oauth2?.client_secret
  if (!clientId) fail('client_id', 'is required')

  let def: ProviderDefinition
  let type: string
  let refreshEnabled: boolean
  if (entry.provider_id !== undefined) {
    const base = ctx.catalog[entry.provider_id]
    if (!base) fail('provider_id', `unknown built-in provider ${JSON.stringify(entry.provider_id)} (see \`latchkey providers list\`)`)
    // A built-in's endpoints are not overridden piecemeal: the catalog entry's quirks (client
    // authentication, token response shape, refresh rotation, user info) belong to its own
    // servers, and a half-overridden provider would keep them silently. Only the credentials,
    // which Arcade's admin API sends under `oauth2`, may be there.
    const extra = Object.entries(entry.oauth2 ?? {})
      .filter(([k, v]) => v !== undefined && k !== 'client_id' && k !== 'client_secret')
      .map(([k]) => k)
    if (extra.length > 0) {
      fail(
        `oauth2.${extra[0]}`,
        `a built-in provider (provider_id: ${entry.provider_id}) uses the catalog's endpoints and cannot take oauth2.${extra.join(', oauth2.')}; ` +
          'for other endpoints (a sandbox, a regional endpoint, a proxy) declare a custom provider under the same id: remove provider_id and give the full oauth2 block (authorize_request, token_request, …)',
      )
    }
    for (const field of ['api_base_urls', 'connection_api_base'] as const) {
      if (entry[field] !== undefined) {
        fail(
          field,
          `a built-in provider (provider_id: ${entry.provider_id}) uses the catalog's API hosts and cannot take ${field}; declare a custom provider for others`,
        )
      }
    }
    def = base!
    type = entry.provider_id
    refreshEnabled = def.refreshTokens !== 'none'
  } else {
    if (!entry.oauth2) fail('oauth2', 'is required when provider_id is not set')
    const o = entry.oauth2!
    if (!o.authorize_request) fail('oauth2.authorize_request', 'is required when provider_id is not set')
    if (!o.token_request) fail('oauth2.token_request', 'is required when provider_id is not set')
    def = fromArcadeOauth2(entry.id, entry.description, o, fail)
    if (entry.api_base_urls !== undefined) def = { ...def, apiBaseUrls: entry.api_base_urls }
    const c = entry.connection_api_base
    if (c !== undefined) def = { ...def, connectionApiBase: { userInfo: c.user_info, hosts: c.hosts, ...(c.path ? { path: c.path } : {}) } }
    type = 'oauth2'
    refreshEnabled = o.refresh_request !== undefined
  }

  // A confidential client without its secret would fail only at the first code exchange, after a
  // user has already signed in; public (PKCE-only, auth method `none`) clients have no secret.
  if (!clientSecret && def.tokenEndpointAuthMethod !== 'none') {
    fail('client_secret', `is required: ${def.id} authenticates the client at its token endpoint (${def.tokenEndpointAuthMethod})`)
  }
  const settings = resolveSettings(def, entry.settings ?? {}, fail)
  const filled = fillDefinition(def, settings)
  // Errors in a custom entry name the field as the entry spells it (`oauth2.token_request.endpoint`).
  const named = (field: string) => (entry.provider_id === undefined ? arcadeFieldName(field) : field)
  for (const [field, url] of endpointsOf(filled)) {
    checkEndpoint(url, named(field), field === 'revocationEndpoint' ? ['client_id'] : [], ctx.allowInsecureLoopback, fail)
    if (ctx.guard && field !== 'authorizationEndpoint') {
      try {
        ctx.guard.checkUrl(url.replace(/\{\{\s*[a-z_]+\s*\}\}/g, 'x'))
      } catch (err) {
        fail(named(field), (err as Error).message)
      }
    }
  }
  const apiField = entry.provider_id === undefined ? 'api_base_urls' : 'apiBaseUrls'
  if (filled.apiBaseUrls) {
    filled.apiBaseUrls = filled.apiBaseUrls.map((url, i) => {
      const normalised = checkApiBaseUrl(url, `${apiField}[${i}]`, ctx.allowInsecureLoopback, fail)
      if (ctx.guard) {
        try {
          ctx.guard.checkUrl(normalised)
        } catch (err) {
          fail(`${apiField}[${i}]`, (err as Error).message)
        }
      }
      return normalised
    })
  }
  for (const [field, expr] of expressionsOf(filled)) {
    try {
      compileExpression(expr)
    } catch (err) {
      fail(named(field), (err as Error).message)
    }
  }
  const { client_secret: _s, ...publicEntry } = entry
  if (publicEntry.oauth2) publicEntry.oauth2 = { ...publicEntry.oauth2, client_secret: undefined }
  return {
    id: entry.id,
    type,
    description: entry.description ?? def.displayName,
    enabled: (entry.enabled ?? true) && entry.status !== 'inactive',
    source: ctx.source,
    clientId: clientId!,
    clientSecret,
    settings,
    def: filled,
    refreshEnabled,
    entry: publicEntry,
  }
}
