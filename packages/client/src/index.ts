/**
 * @module client
 * Latchkey's TypeScript client (`import { Latchkey } from 'latchkey/client'`). No dependencies,
 * global fetch only, so it runs in Node 18+, Deno, Bun, edge runtimes and browsers' workers.
 * Wire-compatible with Arcade's auth API; `waitForCompletion` ends on failure and has a timeout.
 */
import { APIConnectionError, APIError, AuthorizationFailedError, AuthorizationTimeoutError } from './errors.js'
import type {
  ApiKey,
  AuditEntry,
  AuthorizationResponse,
  AuthorizeParams,
  ConfirmUserResponse,
  Connection,
  NewApiKey,
  Page,
  ProviderCatalog,
} from './types.js'

export * from './errors.js'
export * from './failure-codes.js'
export * from './mcp.js'
export type * from './types.js'
export * from './webhook-events.js'
export * from './webhooks.js'

export interface LatchkeyClientOptions {
  /** Default: env `LATCHKEY_API_KEY`. */
  apiKey?: string | undefined
  /** Default: env `LATCHKEY_BASE_URL`, else `http://localhost:9099`. */
  baseURL?: string | undefined
  /** Per-request timeout in ms (long-polls get `wait` + 10 s on top). Default 60 000. */
  timeoutMs?: number
  /** Retries on connection errors, 429 and 502/503/504. Default 2. */
  maxRetries?: number
  fetch?: typeof fetch
}

export interface WaitOptions {
  /** Give up after this long (throws AuthorizationTimeoutError). Default: no limit. */
  timeoutMs?: number
  /** Seconds each long-poll may wait on the server (max 59). Default 45. */
  pollSeconds?: number
  signal?: AbortSignal
}

const env = (name: string): string | undefined => {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } }
  const v = g.process?.env?.[name]
  return v === '' ? undefined : v
}

export class Latchkey {
  readonly baseURL: string
  readonly #apiKey: string
  readonly #timeoutMs: number
  readonly #maxRetries: number
  readonly #fetch: typeof fetch

  constructor(options: LatchkeyClientOptions = {}) {
    const apiKey = options.apiKey ?? env('LATCHKEY_API_KEY')
    if (!apiKey) throw new Error('Latchkey: no API key. Pass { apiKey } or set LATCHKEY_API_KEY.')
    this.#apiKey = apiKey
    this.baseURL = (options.baseURL ?? env('LATCHKEY_BASE_URL') ?? 'http://localhost:9099').replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.#maxRetries = options.maxRetries ?? 2
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  }

  readonly auth = {
    /** Arcade's helper: authorize `userId` for `provider` with `scopes`. */
    start: (
      userId: string,
      provider: string,
      options: {
        scopes?: string[]
        providerType?: string
        nextUri?: string
        /** Latchkey extension: which account (a connection id, or an account id/email); default: the user's default account. */
        account?: string
      } = {},
    ): Promise<AuthorizationResponse> =>
      this.auth.authorize({
        user_id: userId,
        auth_requirement: {
          provider_id: provider,
          provider_type: options.providerType ?? 'oauth2',
          oauth2: { scopes: options.scopes ?? [] },
        },
        ...(options.nextUri ? { next_uri: options.nextUri } : {}),
        ...(options.account ? { account: options.account } : {}),
      }),

    authorize: (params: AuthorizeParams): Promise<AuthorizationResponse> => this.#request('POST', '/v1/auth/authorize', { body: params }),

    status: (params: { id: string; wait?: number }, signal?: AbortSignal): Promise<AuthorizationResponse> =>
      this.#request('GET', '/v1/auth/status', {
        query: { id: params.id, ...(params.wait !== undefined ? { wait: String(params.wait) } : {}) },
        extraTimeoutMs: (params.wait ?? 0) * 1000,
        signal,
      }),

    /**
     * Long-polls until the authorization completes. Throws AuthorizationFailedError when it fails
     * (declined, expired, user mismatch) and AuthorizationTimeoutError after `timeoutMs`.
     */
    waitForCompletion: async (responseOrId: AuthorizationResponse | string, options: WaitOptions = {}): Promise<AuthorizationResponse> => {
      let response: AuthorizationResponse = typeof responseOrId === 'string' ? { id: responseOrId, status: 'pending' } : responseOrId
      const id = response.id
      if (!id) throw new TypeError('waitForCompletion needs an authorization id')
      const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs
      const pollSeconds = Math.min(Math.max(options.pollSeconds ?? 45, 0), 59)
      for (;;) {
        if (response.status === 'completed') return response
        if (response.status === 'failed') throw new AuthorizationFailedError(response)
        options.signal?.throwIfAborted()
        const remaining = deadline - Date.now()
        if (remaining <= 0) throw new AuthorizationTimeoutError(id, options.timeoutMs!)
        const wait = Math.max(0, Math.min(pollSeconds, Math.ceil(remaining / 1000)))
        response = await this.auth.status({ id, wait }, options.signal)
      }
    },

    confirmUser: (params: { flow_id: string; user_id: string }): Promise<ConfirmUserResponse> =>
      this.#request('POST', '/v1/auth/confirm_user', { body: params }),

    /**
     * Latchkey extension: the credential of this connection stopped working (the service rejected
     * it). It becomes `reauth_required`; the next authorize answers with a link to replace it.
     */
    markInvalid: (params: {
      user_id: string
      connection_id: string
    }): Promise<{ connection_id: string; status: Connection['connection_status'] }> =>
      this.#request('POST', '/v1/auth/mark_invalid', { body: params }),
  }

  readonly health = {
    check: (): Promise<{ healthy: boolean; reason?: string }> => this.#request('GET', '/v1/health', {}),
  }

  readonly providers = {
    list: (): Promise<ProviderCatalog> => this.#request('GET', '/v1/providers', {}),
  }

  readonly admin = {
    userConnections: {
      list: (params: { user_id?: string; provider_id?: string; limit?: number; offset?: number } = {}): Promise<Page<Connection>> =>
        this.#request('GET', '/v1/admin/user_connections', { query: stringify(params) }),
      get: (id: string): Promise<Connection> => this.#request('GET', `/v1/admin/user_connections/${encodeURIComponent(id)}`, {}),
      delete: (id: string): Promise<void> => this.#request('DELETE', `/v1/admin/user_connections/${encodeURIComponent(id)}`, {}),
    },
    apiKeys: {
      list: (): Promise<Page<ApiKey>> => this.#request('GET', '/v1/admin/api_keys', {}),
      create: (params: { name: string; role?: 'admin' | 'runtime'; expires_in_days?: number }): Promise<NewApiKey> =>
        this.#request('POST', '/v1/admin/api_keys', { body: params }),
      revoke: (id: string): Promise<ApiKey> => this.#request('DELETE', `/v1/admin/api_keys/${encodeURIComponent(id)}`, {}),
    },
    audit: {
      list: (
        params: { user_id?: string; provider_id?: string; action?: string; limit?: number; offset?: number } = {},
      ): Promise<Page<AuditEntry>> => this.#request('GET', '/v1/admin/audit', { query: stringify(params) }),
    },
  }

  async #request<T>(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Record<string, string>; extraTimeoutMs?: number; signal?: AbortSignal | undefined },
  ): Promise<T> {
    const url = new URL(this.baseURL + path)
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v)
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${this.#apiKey}`,
      'user-agent': 'latchkey-client/0.1',
    }
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.#timeoutMs + (opts.extraTimeoutMs ?? 0))
      const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout
      let response: Response
      try {
        response = await this.#fetch(url, { method, headers, body: opts.body === undefined ? null : JSON.stringify(opts.body), signal })
      } catch (err) {
        if (opts.signal?.aborted) throw err
        // Repeat only what is safe to repeat: reads, deletes, and authorize (identical requests share a flow).
        const idempotent = method === 'GET' || method === 'DELETE' || path === '/v1/auth/authorize'
        if (idempotent && attempt < this.#maxRetries) {
          await sleep(backoff(attempt))
          continue
        }
        throw new APIConnectionError(`could not reach Latchkey at ${this.baseURL}: ${(err as Error).message}`, { cause: err })
      }
      const text = await response.text()
      const body: unknown = text === '' ? undefined : parse(text)
      if (response.ok) return body as T
      const retryable = response.status === 429 || response.status === 502 || response.status === 503 || response.status === 504
      if (retryable && attempt < this.#maxRetries && response.headers.get('x-should-retry') !== 'false') {
        const after = Number(response.headers.get('retry-after'))
        await sleep(after > 0 && after <= 60 ? after * 1000 : backoff(attempt))
        continue
      }
      throw APIError.from(response.status, body)
    }
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function stringify(params: Record<string, string | number | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  )
}

const backoff = (attempt: number) => Math.min(500 * 2 ** attempt, 8000) * (1 - Math.random() * 0.25)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export default Latchkey
