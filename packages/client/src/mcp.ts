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

/**
 * Thrown by `latchkeyMcpFetch` when the MCP server keeps answering `403 insufficient_scope` after
 * `maxStepUps` step-up authorizations without a successful answer in between (a server asking
 * for scopes its authorization server never grants would otherwise ask the user forever).
 */
export class McpStepUpLimitExceeded extends Error {
  /** The scopes asked for so far (granted and challenged). */
  readonly scopes: string[]
  constructor(scopes: string[], limit: number) {
    super(
      `the MCP server still needs scopes ${scopes.join(' ')} after ${limit} step-up authorization${limit === 1 ? '' : 's'}; giving up (the authorization server may never grant them)`,
    )
    this.name = 'McpStepUpLimitExceeded'
    this.scopes = scopes
  }
}

interface AuthorizesUsers {
  auth: { start(userId: string, provider: string, options?: { scopes?: string[] }): Promise<AuthorizationResponse> }
}

export interface LatchkeyMcpFetchOptions {
  /**
   * The MCP server's URL (the provider's `mcp.server_url`). The token is sent only to this
   * origin, at this path or below it; any other URL throws before a token is fetched, so a
   * transport pointed elsewhere (or a URL taken from a server's answer) never receives it.
   */
  serverUrl: string | URL
  /** Scopes to ask for from the start (default: what the server's challenge or metadata names). */
  scopes?: string[]
  /** Step-up authorizations started without a successful answer in between before giving up (default 2). */
  maxStepUps?: number
  fetch?: typeof fetch
}

/**
 * A `fetch` for the transport's `fetch` option. Each request asks Latchkey for the user's token
 * (answered from memory while it is valid) and sends it, only to `serverUrl`. A `403
 * insufficient_scope` starts a step-up authorization for the challenged scopes (Latchkey adds the
 * ones granted before) and throws `McpAuthorizationRequired` with it; after the user completes
 * it, retry the call. After `maxStepUps` step-ups without a successful answer, the next one
 * throws `McpStepUpLimitExceeded` instead of asking the user again.
 */
export function latchkeyMcpFetch(
  client: AuthorizesUsers,
  userId: string,
  provider: string,
  options: LatchkeyMcpFetchOptions,
): typeof fetch {
  const base = options.fetch ?? globalThis.fetch.bind(globalThis)
  const server = new URL(options.serverUrl)
  const serverPath = server.pathname.replace(/\/$/, '')
  const maxStepUps = options.maxStepUps ?? 2
  let scopes = options.scopes ?? []
  // Step-up authorizations (by id: a retry before the user finished is the same one) since the last success.
  const stepUps = new Set<string>()
  const stepUp = (auth: AuthorizationResponse, reason: string): never => {
    const id = auth.id ?? auth.url ?? String(stepUps.size)
    if (!stepUps.has(id) && stepUps.size >= maxStepUps) throw new McpStepUpLimitExceeded(scopes, maxStepUps)
    stepUps.add(id)
    throw new McpAuthorizationRequired(auth, reason)
  }
  return async (input, init) => {
    const target = new URL(input instanceof Request ? input.url : String(input))
    const path = target.pathname.replace(/\/$/, '')
    if (target.origin !== server.origin || (path !== serverPath && !path.startsWith(`${serverPath}/`))) {
      throw new Error(
        `latchkeyMcpFetch: refusing to send ${provider}'s token to ${target.origin}${target.pathname}, which is not the MCP server ${server.origin}${server.pathname}`,
      )
    }
    const auth = await client.auth.start(userId, provider, { scopes })
    if (auth.status !== 'completed' || !auth.context?.token) {
      if (stepUps.size > 0) stepUp(auth, `the MCP server needs scopes ${scopes.join(' ')}`)
      throw new McpAuthorizationRequired(auth, 'no token for this user yet')
    }
    // A Request's own headers are kept (init's headers would replace them otherwise).
    const headers = new Headers(input instanceof Request ? input.headers : undefined)
    new Headers(init?.headers).forEach((value, key) => {
      headers.set(key, value)
    })
    // No redirect is followed: one would carry the token out of the server's path (or, with a fetch
    // that keeps Authorization across origins, off the server). MCP's HTTP transport needs none.
    const response = await base(input, mcpRequestInit(auth.context.token, { ...init, headers, redirect: 'error' }))
    const wanted = insufficientScope(response)
    if (wanted === undefined) {
      stepUps.clear()
      return response
    }
    scopes = [...new Set([...scopes, ...wanted])]
    const more = await client.auth.start(userId, provider, { scopes })
    if (more.status === 'completed') throw new McpAuthorizationRequired(more, 'the server refused the granted scopes')
    return stepUp(more, `the MCP server needs scopes ${wanted.join(' ')}`)
  }
}
