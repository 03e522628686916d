/**
 * @module oauth/provider-error
 * Provider failures, kept apart from our own errors and classified once, here:
 * - `invalid_grant`: the user's grant is dead (revoked, expired) → re-authorization needed;
 * - `invalid_client`: our client credentials are wrong → the operator must fix config;
 * - `transient`: network failure, timeout, 5xx, rate limit → back off and retry later;
 * - `protocol`: any other error answer or an unreadable response.
 */

export type ProviderErrorKind = 'invalid_grant' | 'invalid_client' | 'transient' | 'protocol'

/**
 * Error codes that mean the grant itself is dead, by provider:
 * RFC 6749 `invalid_grant`; GitHub `bad_refresh_token` / `bad_verification_code`;
 * Slack `invalid_refresh_token` / `token_revoked` / `invalid_code`; Microsoft `interaction_required`.
 */
const DEAD_GRANT = new Set([
  'invalid_grant',
  'bad_refresh_token',
  'bad_verification_code',
  'invalid_refresh_token',
  'token_revoked',
  'token_expired',
  'invalid_code',
  'interaction_required',
  'consent_required',
])
/** Codes that blame our client registration (RFC 6749 §5.2 and Slack's equivalents). */
const BAD_CLIENT = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_client_id',
  'bad_client_secret',
  'incorrect_client_credentials',
  'invalid_client_secret',
])

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind
  /** The provider's `error` code, when it gave one. */
  readonly error: string | undefined
  readonly errorDescription: string | undefined
  readonly httpStatus: number | undefined

  constructor(
    kind: ProviderErrorKind,
    message: string,
    details: { error?: string | undefined; errorDescription?: string | undefined; status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'ProviderError'
    this.kind = kind
    this.error = details.error
    this.errorDescription = details.errorDescription
    this.httpStatus = details.status
  }

  /** Classifies an error answer from a token endpoint. */
  static fromErrorBody(status: number, error: string | undefined, description: string | undefined): ProviderError {
    const code = error?.toLowerCase()
    const kind: ProviderErrorKind =
      code !== undefined && DEAD_GRANT.has(code)
        ? 'invalid_grant'
        : (code !== undefined && BAD_CLIENT.has(code)) || (status === 401 && code === undefined)
          ? 'invalid_client'
          : status >= 500 || status === 429 || code === 'temporarily_unavailable' || code === 'server_error' || code === 'ratelimited'
            ? 'transient'
            : 'protocol'
    const text = [error, description].filter(Boolean).join(': ') || `HTTP ${status}`
    return new ProviderError(kind, `provider answered ${text}`, { error, errorDescription: description, status })
  }
}

/**
 * Any error of an outbound OAuth call as a ProviderError: oauth4webapi throws plain errors for
 * bad input or an unreadable answer (→ `protocol`); our fetch throws ProviderError for network
 * failures, possibly wrapped by oauth4webapi as the cause.
 */
export function asProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof ProviderError) return cause
  return new ProviderError('protocol', (err as Error).message, { cause: err })
}
