/**
 * @module broker/services
 * The shared services the broker's parts are built from: configuration, storage, keys,
 * providers, logging, outbound HTTP, metrics, audit, long-poll waiters. The refresher is built
 * from these alone, and `BrokerContext` (context.ts) adds it: two modules, so neither imports
 * the other's importer.
 */
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { ProviderHttpOptions } from '../oauth/http.js'
import type { ProviderRegistry } from '../providers/registry.js'
import type { Store } from '../storage/store.js'
import type { AuditLog } from './audit.js'
import type { McpProviders } from './mcp-providers.js'
import type { Vault } from './vault.js'
import type { FlowWaiters } from './waiters.js'

export interface BrokerServices {
  config: Config
  store: Store
  vault: Vault
  registry: ProviderRegistry
  log: Logger
  http: ProviderHttpOptions
  metrics: Metrics
  audit: AuditLog
  waiters: FlowWaiters
  /** The OAuth redirect URI registered with every provider: `<public url>/oauth/callback`. */
  redirectUri: string
  /** MCP servers as providers: discovery, client registration, per-flow endpoints (issue 13). */
  mcp: McpProviders
}
