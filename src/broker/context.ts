/**
 * @module broker/context
 * Everything a broker service needs, assembled once by `createLatchkey` (src/server.ts) and passed explicitly.
 */
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { ProviderHttpOptions } from '../oauth/http.js'
import type { ProviderRegistry } from '../providers/registry.js'
import type { Store } from '../storage/store.js'
import type { AuditLog } from './audit.js'
import type { Vault } from './vault.js'
import type { FlowWaiters } from './waiters.js'
import type { Refresher } from './refresher.js'
import type { ConnectionCache } from './connection-cache.js'

export interface BrokerContext {
  config: Config
  store: Store
  vault: Vault
  registry: ProviderRegistry
  log: Logger
  http: ProviderHttpOptions
  metrics: Metrics
  audit: AuditLog
  waiters: FlowWaiters
  refresher: Refresher
  /** In-memory (user, provider) → connection rows for the hot path, dropped on every write. */
  connectionCache: ConnectionCache
  /** The OAuth redirect URI registered with every provider: `<public url>/oauth/callback`. */
  redirectUri: string
}

/** Wire shape of Arcade's AuthorizationResponse (wire doc §3). */
export interface AuthorizationResponse {
  id: string
  status: 'not_started' | 'pending' | 'completed' | 'failed'
  url?: string
  scopes: string[]
  provider_id: string
  user_id: string
  context?: { token: string; user_info: Record<string, unknown> }
  /** Latchkey extension: why a flow failed (`access_denied`, `expired`, `user_mismatch`, …). */
  error?: { code: string; message: string }
}
