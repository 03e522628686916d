/**
 * @module broker/context
 * Everything a broker service needs, assembled once by `createLatchkey` (src/server.ts) and passed explicitly.
 */
import type * as Wire from '@latchkey/client'
import type { ConnectionCache } from './connection-cache.js'
import type { LastUse } from './last-use.js'
import type { Refresher } from './refresher.js'
import type { BrokerServices } from './services.js'

/** The services, plus the two built on top of them (the refresher takes the services alone). */
export interface BrokerContext extends BrokerServices {
  refresher: Refresher
  /** In-memory (user, provider) → connection rows for the hot path, dropped on every write. */
  connectionCache: ConnectionCache
  /** Last-use times of connections, written in batches (see broker/last-use). */
  lastUse: LastUse
}

/**
 * Wire shape of Arcade's AuthorizationResponse (wire doc §3), as the server always sends it. It
 * extends the SDK's (tolerant, all-optional) type, so a field that drifts fails to compile.
 */
export interface AuthorizationResponse extends Wire.AuthorizationResponse {
  id: string
  status: 'not_started' | 'pending' | 'completed' | 'failed'
  url?: string
  scopes: string[]
  provider_id: string
  user_id: string
  context?: { token: string; user_info: Record<string, unknown> }
  /** Latchkey extension: why a flow failed (`access_denied`, `expired`, `user_mismatch`, …). */
  error?: { code: string; message: string }
  /** Latchkey extension: which account a completed answer is for (several accounts per user and provider). */
  account?: Wire.AuthorizationAccount
}
