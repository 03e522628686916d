/**
 * @module client/failure-codes
 * Why an authorization ended without a token: the `error.code` of a `failed` authorization
 * (`GET /v1/auth/status`, `AuthorizationFailedError.reason`). Pure data with no imports, so the
 * SDK owns the list and the server imports it from here (never the other way round).
 *
 * Modelled on better-auth's `OAUTH_CALLBACK_ERROR_CODES`: a flat map of constants to wire values,
 * and one description per code (a `Record` over the codes, so a new code without a description
 * does not compile). The README table is generated from both (`npm run docs:errors`).
 */

export const FLOW_FAILURE_CODES = {
  // Decided by Latchkey.
  EXPIRED: 'expired',
  USER_MISMATCH: 'user_mismatch',
  PROVIDER_REMOVED: 'provider_removed',
  PROVIDER_MISCONFIGURED: 'provider_misconfigured',
  EXCHANGE_FAILED: 'exchange_failed',
  CONNECTION_DELETED: 'connection_deleted',
  REAUTH_REQUIRED: 'reauth_required',
  CALLBACK_INTERRUPTED: 'callback_interrupted',
  BROWSER_MISMATCH: 'browser_mismatch',
  // Sent by the provider to the callback (RFC 6749 §4.1.2.1), passed on as sent.
  ACCESS_DENIED: 'access_denied',
  INVALID_REQUEST: 'invalid_request',
  UNAUTHORIZED_CLIENT: 'unauthorized_client',
  UNSUPPORTED_RESPONSE_TYPE: 'unsupported_response_type',
  INVALID_SCOPE: 'invalid_scope',
  SERVER_ERROR: 'server_error',
  TEMPORARILY_UNAVAILABLE: 'temporarily_unavailable',
  // Any other error code a provider sends; the code it sent leads the message.
  PROVIDER_ERROR: 'provider_error',
} as const

export type FlowFailureCode = (typeof FLOW_FAILURE_CODES)[keyof typeof FLOW_FAILURE_CODES]

export const FLOW_FAILURE_DESCRIPTIONS: Readonly<Record<FlowFailureCode, string>> = {
  expired: 'The authorization link expired before the user finished (or, with custom verification, before the app confirmed the user).',
  user_mismatch: 'Custom verification: the user who signed in is not the user the authorization was started for; the grant was discarded.',
  provider_removed: 'The provider was removed from the configuration while the authorization was in progress.',
  provider_misconfigured:
    "The provider rejected Latchkey's client credentials when the code was exchanged (invalid_client): fix the provider config.",
  exchange_failed: 'The provider did not exchange the code for a usable token (rejected code, protocol error or outage).',
  connection_deleted: 'The authorization completed, but its connection was deleted since.',
  reauth_required: 'The grant was revoked or expired and could not be refreshed; call authorize again for a new link.',
  browser_mismatch:
    'Custom verification: the confirmation link was opened in a different browser than the one that signed in at the provider, so the grant was discarded (see SECURITY.md, login CSRF).',
  callback_interrupted:
    'The server completing the sign-in stopped during the code exchange; the flow was failed once the exchange deadline passed. Start again from the app.',
  access_denied: 'The user declined the authorization at the provider.',
  invalid_request: 'The provider found the authorization request malformed.',
  unauthorized_client: 'The provider does not allow this client to use the authorization code grant.',
  unsupported_response_type: 'The provider does not support the authorization code grant for this client.',
  invalid_scope: 'The provider refused a requested scope (unknown, malformed or not allowed for this client).',
  server_error: 'The provider had an internal error during the authorization.',
  temporarily_unavailable: 'The provider was overloaded or down for maintenance; try again later.',
  provider_error: 'The provider reported an error code outside RFC 6749; the message starts with the code it sent.',
}

const PROVIDER_CODES: ReadonlySet<string> = new Set<FlowFailureCode>([
  'access_denied',
  'invalid_request',
  'unauthorized_client',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
])

/** The failure code for a provider's callback `error` parameter: an RFC 6749 code as sent, any other as `provider_error`. */
export function providerFailureCode(error: string): FlowFailureCode {
  return PROVIDER_CODES.has(error) ? (error as FlowFailureCode) : FLOW_FAILURE_CODES.PROVIDER_ERROR
}
