/**
 * @module client/types
 * Wire types of Latchkey's API (Arcade-compatible shapes plus Latchkey's extensions).
 */

export interface AuthorizeParams {
  user_id: string
  auth_requirement: {
    /** A configured provider's unique id. One of `id` / `provider_id` is required. */
    id?: string
    /** A provider id or a built-in provider type (`google`). */
    provider_id?: string
    provider_type?: string
    oauth2?: { scopes?: string[] }
  }
  next_uri?: string
  /**
   * Latchkey extension: which of the user's accounts for the provider (several accounts per
   * user and provider). A connection id (`cn_…`), or an account hint: the provider's account id
   * or the account's email/label. Without it: the user's default account for the provider. A
   * hint that matches no connected account starts a flow for a new one (passed to the provider
   * as `login_hint` where it takes one).
   */
  account?: string
}

/** Latchkey extension: the account a completed authorization is for. */
export interface AuthorizationAccount {
  /** The connection (also the authorization's `id` when it came from a stored grant). */
  connection_id: string
  /** The provider's account id, when the provider says who. */
  id: string | null
  /** A human label (email, login), when the provider gives one. */
  label: string | null
  /** Whether this is the user's default account for the provider (what authorize without `account` answers with). */
  default: boolean
}

export interface AuthorizationResponse {
  id?: string | undefined
  status?: 'not_started' | 'pending' | 'completed' | 'failed' | undefined
  /** Where the user goes to grant access (when not completed). */
  url?: string | undefined
  scopes?: string[] | undefined
  provider_id?: string | undefined
  user_id?: string | undefined
  context?: { token?: string; user_info?: Record<string, unknown> } | undefined
  /** Why the authorization failed (Latchkey extension). */
  error?: { code: string; message: string } | undefined
  /** Which account a completed authorization is for (Latchkey extension). */
  account?: AuthorizationAccount | undefined
}

export interface ConfirmUserResponse {
  auth_id: string
  next_uri?: string
}

export interface Page<T> {
  items: T[]
  limit: number
  offset: number
  page_count: number
  total_count: number
}

export interface Connection {
  id: string
  connection_id: string
  connection_status: 'active' | 'reauth_required' | 'revoked'
  provider_id: string
  provider_type: string
  provider_description: string
  provider_user_info: Record<string, unknown>
  /** The scopes granted. */
  scopes: string[]
  /** What the last grant asked the provider for (Latchkey extension); null when not recorded (older connections). */
  requested_scopes: string[] | null
  user_id: string
  account: { id: string | null; label: string | null }
  /** The user's default connection for the provider (Latchkey extension; what authorize without `account` answers with). */
  default: boolean
  has_refresh_token: boolean
  expires_at: string | null
  refresh_token_expires_at: string | null
  created_at: string
  updated_at: string
  last_used_at: string | null
  last_refresh_at: string | null
  last_refresh_error: string | null
  refresh_failures: number
}

export interface ApiKey {
  id: string
  prefix: string
  name: string
  role: 'admin' | 'runtime'
  status: 'active' | 'revoked' | 'expired'
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  last_used_at: string | null
}

export interface NewApiKey extends ApiKey {
  /** The key itself: shown in this response only. */
  key: string
}

export interface AuditEntry {
  id: string
  at: string
  actor: string | null
  action: string
  user_id: string | null
  provider_id: string | null
  connection_id: string | null
  detail: Record<string, unknown> | null
}

export interface ProviderCatalog {
  items: Array<{
    id: string
    display_name: string
    docs_url: string | readonly string[]
    /** Where the proxy may forward (`{setting}` templates unfilled); empty: not proxied. */
    api_base_urls: readonly string[]
    configured: boolean
    configured_ids: string[]
    settings: Record<string, { description: string; example: string; default: string | null }>
    scope_delimiter: string
    pkce: string
    refresh_tokens: string
    revocation: boolean
    /** `oauth2`, or a credential the person enters on Latchkey's page (`api_key`, `basic`). */
    kind: string
    /** For `api_key` and `basic` services: the form's field labels and the API the credential is for. */
    credential?: { labels: { secret?: string | undefined; username?: string | undefined }; api_origin: string } | undefined
  }>
  configured: Array<{ id: string; type: string; description: string; enabled: boolean; source: string; api_base_urls: string[] }>
}
