/**
 * @module storage/schema
 * Table shapes as Kysely sees them. Times are unix milliseconds (bigint in PostgreSQL,
 * integer in SQLite); JSON values are stored as text so both databases read them alike.
 * Every `*_enc` column holds a `crypto/keyring` envelope, never a plaintext secret.
 */
import type { FlowFailureCode } from '@latchkey/client'
import type { Generated } from 'kysely'

export interface ApiKeysTable {
  id: string
  name: string
  role: 'admin' | 'runtime'
  /** SHA-256 of the key's secret part (base64url). */
  hash: string
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
}

export interface FlowsTable {
  id: string
  /** SHA-256 of the OAuth `state` parameter (`crypto/state-hash`; unique, single use). */
  state_hash: string
  /** The state itself, encrypted: the authorization URL is built when the link is opened. Null for rows from before 0004-state-hash. */
  state_enc: string | null
  user_id: string
  provider_id: string
  /** JSON array of the scopes asked of the provider (requested ∪ already granted). */
  scopes: string
  /** JSON array of the scopes the app asked for (the response echoes these). */
  requested_scopes: string
  /** Sorted, de-duplicated requested scopes joined by a space: identical requests share a flow. */
  scope_key: string
  code_verifier_enc: string | null
  nonce: string | null
  redirect_uri: string
  next_uri: string | null
  status: 'pending' | 'completed' | 'failed'
  /** Why a failed flow ended (the SDK's catalog; rows written before it may hold other provider codes). */
  error: FlowFailureCode | null
  error_description: string | null
  connection_id: string | null
  /** Set when the browser first opened the link (the link then stops working elsewhere). */
  opened_at: number | null
  /** Hash of the cookie binding the flow to the first browser that opened it. */
  browser_binding: string | null
  /** Set when the callback consumed the state (single use). */
  callback_at: number | null
  /** A grant received but not yet confirmed by user verification (encrypted JSON). */
  grant_enc: string | null
  created_at: number
  expires_at: number
  completed_at: number | null
  /** The account selector's hint (email or provider account id), passed as login_hint where supported (0010-accounts). */
  account_hint: string | null
  /** The connection an account selector named or matched: the grant updates it (0010-accounts). */
  connection_target: string | null
}

export interface ConnectionsTable {
  id: string
  user_id: string
  provider_id: string
  status: 'active' | 'reauth_required' | 'revoked'
  /** JSON array of granted scopes. */
  scopes: string
  /**
   * JSON array of the scopes the last grant asked the provider for (the flow's scopes: the app's
   * request plus those granted before); null for rows granted before it was recorded
   * (0012-connection-requested-scopes).
   */
  requested_scopes: string | null
  access_token_enc: string
  refresh_token_enc: string | null
  token_type: string | null
  expires_at: number | null
  /** When the access token was obtained (grant or refresh); null for rows older than this column. */
  token_issued_at: number | null
  refresh_token_expires_at: number | null
  account_id: string | null
  account_label: string | null
  /** JSON object, or null. */
  user_info: string | null
  created_at: number
  updated_at: number
  last_used_at: number | null
  last_refresh_at: number | null
  last_refresh_error: string | null
  refresh_failures: number
  refresh_cooldown_until: number | null
  /** Cross-process refresh lease (SQLite); PostgreSQL uses a row lock instead. */
  refresh_lease_owner: string | null
  refresh_lease_until: number | null
  /** Incremented on every token write; lets readers detect a concurrent refresh. */
  generation: number
  /**
   * 1 for the user's default connection for the provider (exactly one per user and provider,
   * what authorize without an account selector answers with), else 0 (0010-accounts).
   */
  is_default: number
}

export interface ProvidersTable {
  id: string
  /** JSON of the provider entry without its client secret. */
  config: string
  client_secret_enc: string | null
  created_at: number
  updated_at: number
}

export interface AuditTable {
  id: string
  at: number
  actor: string | null
  action: string
  user_id: string | null
  provider_id: string | null
  connection_id: string | null
  /** JSON object with non-secret details. */
  detail: string | null
}

export interface MetaTable {
  key: string
  value: string
}

/** One row per running Latchkey process: the encryption key versions it holds (rotation checks them). */
export interface ProcessKeysTable {
  id: string
  /** JSON `{ "<version>": "<fingerprint>" }` of the keys this process holds. */
  key_fingerprints: string
  last_seen: number
}

// ---------------------------------------------------------------- webhooks (0008-webhooks)

/** A webhook receiver. Its signing secret (`whsec_…`) is sealed for the row like every other secret. */
export interface WebhookEndpointsTable {
  id: string
  url: string
  /** JSON array of event types (or `*`) this endpoint receives. */
  events: string
  description: string | null
  /** `failing`: deliveries gave up after the retry window; nothing is sent until it is re-enabled. */
  status: 'enabled' | 'failing' | 'disabled'
  /** `config`: declared in latchkey.yaml (read-only through the API). */
  source: 'api' | 'config'
  secret_enc: string
  /** The secret before the last rotation: signed with too until `previous_secret_expires_at`. */
  previous_secret_enc: string | null
  previous_secret_expires_at: number | null
  failing_since: number | null
  created_at: number
  updated_at: number
}

/**
 * The outbox: one row per event, written in the transaction of the state change that causes it.
 * `seq` (autoincrement) orders events; a dispatcher fans each out to the matching endpoints.
 */
export interface WebhookEventsTable {
  seq: Generated<number>
  id: string
  type: string
  /** Events with one key (a connection, or a flow) are delivered to an endpoint in `seq` order. */
  order_key: string
  /** The JSON body as sent (`{type, timestamp, data}`). */
  payload: string
  created_at: number
  dispatched_at: number | null
}

export interface WebhookDeliveriesTable {
  id: string
  endpoint_id: string
  event_id: string
  event_seq: number
  event_type: string
  order_key: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  next_attempt_at: number
  lease_owner: string | null
  lease_until: number | null
  last_status_code: number | null
  last_error: string | null
  delivered_at: number | null
  /** When the event was written (the state change), so delivery lag is measured from there. */
  created_at: number
}

/** One row per (connection, refresh-token expiry) already announced: `refresh_token_expiring` is sent once per expiry. */
export interface WebhookExpiryNoticesTable {
  connection_id: string
  expires_at: number
}

export interface Database {
  api_keys: ApiKeysTable
  flows: FlowsTable
  connections: ConnectionsTable
  providers: ProvidersTable
  audit_log: AuditTable
  latchkey_meta: MetaTable
  latchkey_process_keys: ProcessKeysTable
  webhook_endpoints: WebhookEndpointsTable
  webhook_events: WebhookEventsTable
  webhook_deliveries: WebhookDeliveriesTable
  webhook_expiry_notices: WebhookExpiryNoticesTable
}
