/**
 * @module broker/mcp-dynamic
 * MCP servers an app names at authorize time (`auth_requirement.mcp.server_url`, issue 13),
 * when the operator allows their origin (`LATCHKEY_MCP_DYNAMIC_ORIGINS`). Each server becomes
 * a provider of `type: mcp` with a stable id derived from its canonical URI (`mcp-<hash>`),
 * stored like an admin-API provider so every process of the fleet and every restart knows it
 * (callbacks and refreshes look providers up by id); from then on it is a provider like any other.
 */
import { createHash } from 'node:crypto'
import { ConfigError } from '../config.js'
import { LatchkeyError } from '../errors.js'
import { canonicalServerUri } from '../oauth/mcp-discovery.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { compileProviderEntry } from '../providers/provider-config.js'
import type { BrokerContext } from './context.js'

/** The server's canonical URI and provider id, or a 400 when the URL or its origin is not allowed. */
export function dynamicMcpServer(ctx: BrokerContext, raw: string): { serverUrl: string; id: string } {
  let serverUrl: string
  try {
    serverUrl = canonicalServerUri(raw)
  } catch (err) {
    throw new LatchkeyError('BAD_REQUEST', `auth_requirement.mcp.server_url ${(err as Error).message}`)
  }
  const origin = new URL(serverUrl).origin
  if (!ctx.config.mcpDynamicOrigins.includes(origin)) {
    throw new LatchkeyError(
      'BAD_REQUEST',
      `auth_requirement.mcp.server_url: MCP servers at ${origin} are not allowed; the operator lists allowed origins in LATCHKEY_MCP_DYNAMIC_ORIGINS`,
    )
  }
  return { serverUrl, id: `mcp-${createHash('sha256').update(serverUrl).digest('hex').slice(0, 24)}` }
}

/** The provider for an allowed server, created and stored on first use. */
export async function dynamicMcpProvider(ctx: BrokerContext, raw: string, actor: string | null): Promise<ConfiguredProvider> {
  const { serverUrl, id } = dynamicMcpServer(ctx, raw)
  const known = ctx.registry.get(id)
  if (known) return known
  const entry = { id, type: 'mcp', description: `MCP server ${serverUrl}`, mcp: { server_url: serverUrl } }
  let provider: ConfiguredProvider
  try {
    provider = compileProviderEntry(entry, {
      catalog: ctx.registry.catalog,
      allowInsecureLoopback: ctx.config.allowInsecureLoopbackProviders,
      guard: ctx.http.outbound.guard,
      source: 'admin',
      where: 'auth_requirement.mcp',
    })
  } catch (err) {
    if (err instanceof ConfigError) throw new LatchkeyError('BAD_REQUEST', err.message)
    throw err
  }
  const now = Date.now()
  await ctx.store.upsertProvider({ id, config: JSON.stringify(entry), client_secret_enc: null, created_at: now, updated_at: now })
  ctx.registry.set(provider)
  ctx.audit.record({ actor, action: 'provider.created', provider_id: id, detail: { mcp_server_url: serverUrl, dynamic: true } })
  return provider
}
