/**
 * @module providers/mcp-entry
 * A provider entry of `type: mcp` (issue 13): a remote MCP server named by its URL, with
 * optional pre-registered client credentials and scopes. Its OAuth endpoints are not known at
 * load: the definition compiled here holds the server URL as a placeholder, and every flow
 * resolves the real ones by discovery (`broker/mcp-providers.ts`).
 */

import { isLoopbackUrl } from '../oauth/loopback.js'
import { canonicalServerUri } from '../oauth/mcp-discovery.js'
import type { ProviderEntry } from './arcade-entry.js'
import type { ConfiguredProvider } from './configured-provider.js'
import type { ProviderDefinition } from './define-provider.js'

export function compileMcpEntry(
  entry: ProviderEntry,
  ctx: {
    allowInsecureLoopback: boolean
    guard?: { checkUrl(url: string): unknown } | undefined
    source: ConfiguredProvider['source']
  },
  fail: (field: string, message: string) => never,
): ConfiguredProvider {
  if (!entry.mcp) fail('mcp', 'is required for type: mcp (mcp.server_url: the MCP endpoint, e.g. https://mcp.example.com/mcp)')
  if (entry.provider_id !== undefined) fail('provider_id', 'an MCP server is not a catalog provider; remove provider_id')
  if (entry.oauth2 !== undefined) fail('oauth2', 'an MCP server has its OAuth endpoints discovered; remove the oauth2 block')
  const m = entry.mcp!
  let serverUrl: string
  try {
    serverUrl = canonicalServerUri(m.server_url)
  } catch (err) {
    fail('mcp.server_url', `${JSON.stringify(m.server_url)} ${(err as Error).message}`)
  }
  const url = new URL(serverUrl!)
  if (url.protocol !== 'https:' && !(isLoopbackUrl(url) && ctx.allowInsecureLoopback)) {
    fail(
      'mcp.server_url',
      `${serverUrl!} must use https:// (http:// on loopback only with LATCHKEY_ALLOW_INSECURE_LOOPBACK_PROVIDERS=true)`,
    )
  }
  if (ctx.guard) {
    try {
      ctx.guard.checkUrl(serverUrl!)
    } catch (err) {
      fail('mcp.server_url', (err as Error).message)
    }
  }
  if (entry.client_secret && !entry.client_id) fail('client_id', 'is required with client_secret')
  const def: ProviderDefinition = {
    id: entry.id,
    displayName: entry.description ?? url.host,
    docsUrl: [],
    // Placeholders until discovery fills them; nothing is ever sent to them.
    authorizationEndpoint: serverUrl!,
    tokenEndpoint: serverUrl!,
    scopeDelimiter: ' ',
    ...(m.scopes ? { defaultScopes: m.scopes } : {}),
    pkce: 'required',
    tokenEndpointAuthMethod: 'none',
    // Public clients get rotating refresh tokens (OAuth 2.1); the refresher handles either.
    refreshTokens: 'rotating',
  }
  const { client_secret: _s, ...publicEntry } = entry
  return {
    id: entry.id,
    type: 'mcp',
    description: entry.description ?? `MCP server ${url.host}`,
    enabled: (entry.enabled ?? true) && entry.status !== 'inactive',
    source: ctx.source,
    clientId: entry.client_id ?? '',
    clientSecret: entry.client_secret,
    settings: {},
    def,
    refreshEnabled: true,
    entry: publicEntry,
    mcp: { serverUrl: serverUrl!, resourceParameter: m.resource_parameter ?? true, scopes: m.scopes },
  }
}
