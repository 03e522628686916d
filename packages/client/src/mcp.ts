/**
 * @module mcp
 * Helpers for agents that call remote MCP servers with a token from Latchkey (a provider of
 * `type: mcp`), with the official MCP TypeScript SDK's `StreamableHTTPClientTransport`:
 *
 * ```ts
 * const auth = await latchkey.auth.start(userId, 'acme-mcp')        // pending → send auth.url to the user
 * const done = await latchkey.auth.waitForCompletion(auth)
 * const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
 *   requestInit: mcpRequestInit(done.context!.token!),
 * })
 * ```
 *
 * or, so every request carries a fresh token (refreshed by Latchkey when due) and a missing
 * scope surfaces as a step-up authorization:
 *
 * ```ts
 * const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
 *   fetch: latchkeyMcpFetch(latchkey, userId, 'acme-mcp'),
 * })
 * ```
 * No dependency on the MCP SDK: these are plain `RequestInit` and `fetch` values.
 */
import type { AuthorizationResponse } from './types.js'

/** The `requestInit` for a transport: the token as `Authorization: Bearer`, other headers kept. */
export function mcpRequestInit(token: string, init: RequestInit = {}): RequestInit {
  const headers: Record<string, string> = {}
  new Headers(init.headers).forEach((value, key) => {
    headers[key] = value
  })
  headers['authorization'] = `Bearer ${token}`
  return { ...init, headers }
}

/**
 * The scopes a `403 insufficient_scope` answer asks for (RFC 6750 §3.1, MCP step-up), from the
 * response or its `WWW-Authenticate` header; undefined for any other answer.
 */
export function insufficientScope(from: Response | string | null): string[] | undefined {
  const header = typeof from === 'string' || from === null ? from : from.status === 403 ? from.headers.get('www-authenticate') : null
  if (!header || !/error\s*=\s*"?insufficient_scope"?/i.test(header)) return undefined
  const scope = /scope\s*=\s*"([^"]*)"/i.exec(header)?.[1] ?? /scope\s*=\s*([^\s,]+)/i.exec(header)?.[1]
  return scope ? scope.split(' ').filter(Boolean) : []
}

/** Thrown by `latchkeyMcpFetch` when the user must sign in (first time, or for more scopes). */
export class McpAuthorizationRequired extends Error {
  /** The pending authorization: send `authorization.url` to the user, then wait for it. */
  readonly authorization: AuthorizationResponse
  constructor(authorization: AuthorizationResponse, reason: string) {
    super(`${reason}: the user must authorize at ${authorization.url ?? '(no url)'}`)
    this.name = 'McpAuthorizationRequired'
    this.authorization = authorization
  }
}

interface AuthorizesUsers {
  auth: { start(userId: string, provider: string, options?: { scopes?: string[] }): Promise<AuthorizationResponse> }
}

/**
 * A `fetch` for the transport's `fetch` option. Each request asks Latchkey for the user's token
 * (answered from memory while it is valid) and sends it. A `403 insufficient_scope` starts a
 * step-up authorization for the challenged scopes (Latchkey adds the ones granted before) and
 * throws `McpAuthorizationRequired` with it; after the user completes it, retry the call.
 */
export function latchkeyMcpFetch(
  client: AuthorizesUsers,
  userId: string,
  provider: string,
  options: { scopes?: string[]; fetch?: typeof fetch } = {},
): typeof fetch {
  const base = options.fetch ?? globalThis.fetch.bind(globalThis)
  let scopes = options.scopes ?? []
  return async (input, init) => {
    const auth = await client.auth.start(userId, provider, { scopes })
    if (auth.status !== 'completed' || !auth.context?.token) throw new McpAuthorizationRequired(auth, 'no token for this user yet')
    const response = await base(input, mcpRequestInit(auth.context.token, init ?? {}))
    const wanted = insufficientScope(response)
    if (wanted === undefined) return response
    scopes = [...new Set([...scopes, ...wanted])]
    const stepUp = await client.auth.start(userId, provider, { scopes })
    if (stepUp.status === 'completed') throw new McpAuthorizationRequired(stepUp, 'the server refused the granted scopes')
    throw new McpAuthorizationRequired(stepUp, `the MCP server needs scopes ${wanted.join(' ')}`)
  }
}
