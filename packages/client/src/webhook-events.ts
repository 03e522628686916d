/**
 * @module client/webhook-events
 * The payloads of the webhook events Latchkey sends, as a union discriminated by `type`. Declared
 * here (the SDK depends on nothing of the server); `test/unit/webhook-event-types.test.ts` fails
 * when they drift from what the server builds and documents.
 */

/** What every connection event carries. */
export interface ConnectionEventData {
  connection_id: string
  user_id: string
  provider_id: string
  status: 'active' | 'reauth_required' | 'revoked' | 'deleted'
  scopes: string[]
  account_id: string | null
}

export interface AuthorizationCompletedData {
  authorization_id: string
  connection_id: string
  user_id: string
  provider_id: string
  status: 'completed'
  scopes: string[]
}

export interface AuthorizationFailedData {
  authorization_id: string
  user_id: string
  provider_id: string
  status: 'failed'
  /** In the few words an app acts on; `error` keeps the precise failure code. */
  reason: 'declined' | 'expired' | 'user_mismatch' | 'browser_mismatch' | 'interrupted' | 'provider_error' | 'other'
  error: string
  message: string
}

export interface ConnectionRefreshedData extends ConnectionEventData {
  /** ISO 8601, or null when the provider gave no lifetime. */
  expires_at: string | null
  /** A new refresh token was issued. */
  rotated: boolean
}

export interface ConnectionReauthRequiredData extends ConnectionEventData {
  status: 'reauth_required'
  reason: string
  provider_error: { error: string | null; description: string } | null
}

export interface ConnectionRecoveredData extends ConnectionEventData {
  previous_status: string
  via: 'authorization' | 'refresh'
  /** With `via: refresh`: how many refresh attempts had failed. */
  failed_attempts?: number
}

export interface ConnectionDeletedData extends ConnectionEventData {
  status: 'deleted'
  provider_revocation: string | null
}

export interface ConnectionScopesChangedData extends ConnectionEventData {
  previous_scopes: string[]
  added: string[]
  removed: string[]
}

export interface ConnectionRefreshTokenExpiringData {
  connection_id: string
  user_id: string
  provider_id: string
  status: string
  /** ISO 8601. */
  refresh_token_expires_at: string | null
}

export interface WebhookEndpointFailingData {
  endpoint_id: string
  status: 'failing'
  /** The last error (never the URL). */
  reason: string
}

/** `data` of each event type. */
export interface WebhookEventDataMap {
  'authorization.completed': AuthorizationCompletedData
  'authorization.failed': AuthorizationFailedData
  'connection.created': ConnectionEventData
  'connection.refreshed': ConnectionRefreshedData
  'connection.reauth_required': ConnectionReauthRequiredData
  'connection.recovered': ConnectionRecoveredData
  'connection.deleted': ConnectionDeletedData
  'connection.scopes_changed': ConnectionScopesChangedData
  'connection.refresh_token_expiring': ConnectionRefreshTokenExpiringData
  'webhook.endpoint_failing': WebhookEndpointFailingData
}

export type WebhookEventType = keyof WebhookEventDataMap

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  'authorization.completed',
  'authorization.failed',
  'connection.created',
  'connection.refreshed',
  'connection.reauth_required',
  'connection.recovered',
  'connection.deleted',
  'connection.scopes_changed',
  'connection.refresh_token_expiring',
  'webhook.endpoint_failing',
]
