/**
 * @module providers/configured-provider
 * A provider as the rest of Latchkey uses it: a definition with its settings filled in, plus
 * client credentials. Its own module (types only, on top of `define-provider.ts`) so that
 * `oauth/`, which runs the protocol for a provider, does not import the entry compiler
 * (`provider-config.ts`), which itself uses `oauth/` expressions and templates.
 */
import type { ProviderDefinition } from './define-provider.js'

export interface ConfiguredProvider {
  /** The unique id apps name in `auth_requirement.provider_id` / `id`. */
  id: string
  /** Catalog id (`google`) or `oauth2` for a fully custom provider. */
  type: string
  description: string
  enabled: boolean
  source: 'config' | 'env' | 'admin' | 'demo'
  clientId: string
  clientSecret: string | undefined
  settings: Record<string, string>
  /** The definition with `{setting}` templates filled in. */
  def: ProviderDefinition
  /** Refresh is used only when the provider issues refresh tokens (and, for custom ones, has a refresh_request). */
  refreshEnabled: boolean
  /** The entry as given (secrets excluded), for the admin API; its shape is `ProviderEntry` (provider-config.ts). */
  entry: Readonly<Record<string, unknown>>
  /**
   * A remote MCP server (issue 13): `def` holds placeholders until a flow resolves the endpoints
   * by discovery and the client by registration (`broker/mcp-providers.ts`).
   */
  mcp?: McpServerSettings
}

export interface McpServerSettings {
  /** Canonical server URI (the RFC 8707 resource unless its metadata names a covering one). */
  serverUrl: string
  /** Send `resource` on authorization and token requests (the spec's default); off for servers that reject it. */
  resourceParameter: boolean
  /** Scopes asked for when the app names none; else the server's challenge or metadata decides. */
  scopes: readonly string[] | undefined
}
