/**
 * @module errors
 * One error base class and a flat catalog of codes. Every API error body is Arcade's
 * `{ name, message }`; `name` is the code. Each entry says, in one place, how the HTTP layer
 * treats it (`http/error-handler.ts` reads these fields and nothing else):
 * - `expose`: whether the message is shown. Every 4xx is; a 5xx only when its message is meant
 *   for the operator (a provider or database outage); anything else becomes a generic
 *   `SERVER_ERROR` with a request id.
 * - `retry`: whether repeating the same request may succeed. Arcade's SDKs (and ours) retry
 *   408/409/429/5xx; an error of those statuses with `retry: false` is sent with
 *   `x-should-retry: false`, so clients do not repeat what will not change.
 * The README's error table is generated from this catalog (`npm run docs:errors`).
 */

export interface ErrorSpec {
  status: number
  description: string
  expose: boolean
  retry: boolean
  /**
   * Sent as `retry-after` (and `retry-after-ms`, with `x-should-retry: true`, which Arcade's SDKs
   * read) on every answer with this code: how long a client should wait before trying again.
   */
  retryAfterSeconds?: number
}

export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, expose: true, retry: false, description: 'The request body or query is malformed or has wrong types.' },
  UNAUTHENTICATED: { status: 401, expose: true, retry: false, description: 'The API key is missing, unknown, revoked or expired.' },
  FORBIDDEN: { status: 403, expose: true, retry: false, description: 'The API key has a role that may not call this endpoint.' },
  NOT_FOUND: { status: 404, expose: true, retry: false, description: 'No such route.' },
  FLOW_NOT_FOUND: { status: 404, expose: true, retry: false, description: 'No authorization with this id.' },
  PROVIDER_UNKNOWN: { status: 404, expose: true, retry: false, description: 'No enabled provider with this id.' },
  PROVIDER_NOT_CONFIGURED: {
    status: 400,
    expose: true,
    retry: false,
    description: 'The provider exists but has no client id/secret configured.',
  },
  // The operator must fix the provider config; retrying sends the same rejected credentials.
  PROVIDER_MISCONFIGURED: {
    status: 502,
    expose: true,
    retry: false,
    description: 'The provider rejected our client credentials (invalid_client): fix the provider config.',
  },
  PROVIDER_UNAVAILABLE: {
    status: 502,
    expose: true,
    retry: true,
    description: 'The provider could not be reached or answered with a server error.',
  },
  // MCP servers (issue 13).
  MCP_SERVER_REFUSED: {
    status: 502,
    expose: true,
    retry: false,
    description:
      "The MCP server's OAuth metadata is missing or unsafe (wrong issuer, no PKCE S256, an internal address, endpoints on another origin).",
  },
  CONNECTION_NOT_FOUND: { status: 404, expose: true, retry: false, description: 'No connection with this id.' },
  // Proxy (issue 14): the user must grant again; repeating the call cannot succeed until then.
  CONNECTION_REAUTH_REQUIRED: {
    status: 409,
    expose: true,
    retry: false,
    description: 'The proxy found the connection, but the user must authorize again (call /v1/auth/authorize for a link).',
  },
  PROVIDER_NO_API: {
    status: 400,
    expose: true,
    retry: false,
    description: 'The provider declares no API base URL (apiBaseUrls / api_base_urls), so the proxy cannot forward to it.',
  },
  // The operator must allow the address (outbound.allow_private); retrying changes nothing.
  UPSTREAM_REFUSED: {
    status: 502,
    expose: true,
    retry: false,
    description: "The outbound guard refused the provider API's address (a private or metadata address not in outbound.allow_private).",
  },
  API_KEY_NOT_FOUND: { status: 404, expose: true, retry: false, description: 'No API key with this id.' },
  USER_MISMATCH: {
    status: 400,
    expose: true,
    retry: false,
    description: 'The signed-in user is not the user who started the authorization.',
  },
  INVALID_NEXT_URI: { status: 400, expose: true, retry: false, description: 'next_uri is not an absolute URL on an allowed origin.' },
  PAYLOAD_TOO_LARGE: { status: 413, expose: true, retry: false, description: 'The request body exceeds the size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, expose: true, retry: false, description: 'The request body is not JSON.' },
  REQUEST_TIMEOUT: {
    status: 408,
    expose: true,
    retry: true,
    description:
      'The request line and headers did not arrive within 20 s, or the whole request within 30 s (LATCHKEY_HEADERS_TIMEOUT_MS / LATCHKEY_REQUEST_TIMEOUT_MS; sent by the HTTP layer before any route).',
  },
  HEADERS_TOO_LARGE: { status: 431, expose: true, retry: false, description: 'The request line and headers exceed 16 KiB.' },
  RATE_LIMITED: {
    status: 429,
    expose: true,
    retry: true,
    description:
      'Too many requests for this API key, or too many failed API-key attempts from this client address; retry after the given delay.',
  },
  // Lasts until a flow completes or expires (minutes, not seconds): Arcade's SDKs must not retry it.
  TOO_MANY_PENDING_FLOWS: {
    status: 429,
    expose: true,
    retry: false,
    description:
      'The user already has the maximum number of pending authorizations (LATCHKEY_MAX_PENDING_FLOWS_PER_USER, default 20); complete one or let it expire. Sent with x-should-retry: false.',
  },
  CONFLICT: { status: 400, expose: true, retry: false, description: 'The resource already exists.' },
  WEBHOOK_NOT_FOUND: { status: 404, expose: true, retry: false, description: 'No webhook endpoint (or no delivery of it) with this id.' },
  WEBHOOK_READ_ONLY: {
    status: 409,
    expose: true,
    retry: false,
    description: 'The webhook endpoint is declared in latchkey.yaml: change it there (it is read-only through the API).',
  },
  // Not exposed: its message could carry internal detail. Retryable, as an unexpected error may be a passing one.
  SERVER_ERROR: {
    status: 500,
    expose: false,
    retry: true,
    description: 'An unexpected error; details are in the server log under the request id.',
  },
  UNAVAILABLE: {
    status: 503,
    expose: true,
    retry: true,
    retryAfterSeconds: 2,
    description: 'The database is unavailable, or a connection stayed locked by a refresh that did not finish in time; retry.',
  },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CODES

export class LatchkeyError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly expose: boolean
  /** Extra fields merged into the JSON body (e.g. Arcade's `{code, error, msg}` for user_mismatch). */
  readonly extra: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; extra?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = this.constructor.name
    this.code = code
    this.status = ERROR_CODES[code].status
    this.expose = ERROR_CODES[code].expose
    this.extra = options?.extra
  }
}
