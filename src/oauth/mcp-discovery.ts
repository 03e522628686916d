/**
 * @module oauth/mcp-discovery
 * Finding the authorization server of a remote MCP server (MCP authorization, revision
 * 2026-07-28): protected-resource metadata (RFC 9728) from the `WWW-Authenticate` header of an
 * unauthenticated request, else the well-known fallbacks (path-inserted, then root); then the
 * authorization server's metadata in the spec's order (RFC 8414 path insertion, OIDC path
 * insertion, OIDC path appending), with an exact `issuer` check and PKCE S256 required.
 *
 * Hand-written rather than the MCP SDK's `discover*` functions or oauth4webapi's
 * `processDiscoveryResponse`: every request must go through `providerFetch` (the SSRF guard,
 * timeout, body cap, no redirects); oauth4webapi compares issuers after URL normalization where
 * the spec wants an exact string, and it knows neither the OIDC path-insertion order nor the
 * MCP-specific checks (PKCE advertised, endpoints on the issuer's origin); the SDK's (1.32) take
 * a fetch but check no issuer, and its `startAuthorization` goes ahead without advertised PKCE.
 * @see https://www.rfc-editor.org/rfc/rfc9728
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 */
import { type ProviderHttpOptions, providerFetch, readBody } from './http.js'
import { secureOrAllowedLoopback } from './loopback.js'
import { ProviderError } from './provider-error.js'

/** What discovery found for one MCP server: all a flow needs to reach its authorization server. */
export interface McpDiscovery {
  /** The canonical MCP server URI the client was configured with. */
  serverUrl: string
  /** The RFC 8707 resource indicator to send: the metadata's `resource` (checked to cover `serverUrl`). */
  resource: string
  /** Scopes from the 401 challenge, else the metadata's `scopes_supported`. */
  scopes: string[]
  as: AuthorizationServerMetadata
  /**
   * The shortest `Cache-Control: max-age` of the two metadata answers, in seconds (0 for
   * `no-store`/`no-cache`); undefined when neither said. The caller bounds it.
   */
  maxAgeSeconds?: number
}

export interface AuthorizationServerMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  registration_endpoint?: string
  revocation_endpoint?: string
  scopes_supported?: string[]
  code_challenge_methods_supported: string[]
  token_endpoint_auth_methods_supported?: string[]
  authorization_response_iss_parameter_supported?: boolean
  client_id_metadata_document_supported?: boolean
}

export interface DiscoveryOptions {
  /** Authorization and token endpoints may use http:// on loopback (development, tests). */
  allowInsecureLoopback: boolean
}

/** A Bearer challenge's parameters (RFC 6750 §3, RFC 9728 §5.1). */
export interface BearerChallenge {
  resourceMetadata?: string
  scope?: string
  error?: string
}

/**
 * Canonical MCP server URI (MCP spec "Canonical Server URI"): scheme and host lower-case, no
 * fragment, no trailing slash unless the path is `/`.
 * @throws Error when it is not an absolute http(s) URL
 */
export function canonicalServerUri(raw: string): string {
  const url = new URL(raw)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('must be an http(s) URL')
  if (url.username || url.password) throw new Error('must not contain credentials')
  url.hash = ''
  if (url.pathname === '/' && !url.search) return url.origin
  const s = url.toString()
  return s.endsWith('/') ? s.slice(0, -1) : s
}

/** Parses the Bearer challenge of a `WWW-Authenticate` header; undefined without one. */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (!header) return undefined
  const m = /(?:^|,\s*)Bearer\b\s*(.*)$/i.exec(header)
  if (!m) return undefined
  const out: BearerChallenge = {}
  for (const p of m[1]!.matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    const value = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1')
    const key = p[1]!.toLowerCase()
    if (key === 'resource_metadata') out.resourceMetadata = value
    else if (key === 'scope') out.scope = value
    else if (key === 'error') out.error = value
  }
  return out
}

/** Runs discovery for `serverUrl` (already canonical). */
export async function discoverMcpServer(serverUrl: string, http: ProviderHttpOptions, options: DiscoveryOptions): Promise<McpDiscovery> {
  const f = providerFetch(http)
  const server = new URL(serverUrl)

  // 1. An unauthenticated request: a 401 names the metadata (and maybe the scopes) in its challenge.
  let challenge: BearerChallenge | undefined
  try {
    const probe = await f(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
    })
    await probe.body?.cancel()
    if (probe.status === 401) challenge = parseBearerChallenge(probe.headers.get('www-authenticate'))
  } catch (err) {
    if (err instanceof ProviderError && err.kind === 'transient') throw err
    // A refused or odd answer: the well-known locations below are tried (and guarded) anyway.
  }

  // 2. Protected-resource metadata: the challenge's URL, else path-inserted, then root.
  const candidates: string[] = []
  if (challenge?.resourceMetadata) {
    // Followed wherever it is (RFC 9728 §5.1 and the MCP spec allow metadata hosted on another
    // origin, e.g. a gateway's; the SDK follows it too). Not a way around the checks: the fetch
    // goes through the outbound guard like every other, and the document must still name this
    // server as its resource (below), so it cannot speak for another one. The server that sent
    // the challenge could serve the same document at its own origin anyway.
    let named: URL
    try {
      named = new URL(challenge.resourceMetadata, serverUrl)
    } catch {
      throw discoveryError(`the resource_metadata ${JSON.stringify(challenge.resourceMetadata)} is not a URL`)
    }
    // https like the server itself (a plain-http document could be rewritten on the way to name
    // another authorization server); plain http only on this machine where insecure loopback is allowed.
    if (!secureOrAllowedLoopback(named, options.allowInsecureLoopback))
      throw discoveryError(`the resource_metadata URL ${named} must use https://`)
    candidates.push(named.toString())
  } else {
    if (server.pathname !== '/') candidates.push(`${server.origin}/.well-known/oauth-protected-resource${server.pathname}`)
    candidates.push(`${server.origin}/.well-known/oauth-protected-resource`)
  }
  const prmAnswer = await firstJson(f, candidates)
  if (!prmAnswer) throw discoveryError(`no protected-resource metadata found for ${serverUrl} (tried ${candidates.join(', ')})`)
  const prm = prmAnswer.json
  // REQUIRED (RFC 9728 §2): without it the document does not say which resource it is for.
  if (typeof prm['resource'] !== 'string') throw discoveryError(`the protected-resource metadata for ${serverUrl} has no resource`)
  const resource = prm['resource']
  if (!coversResource(resource, serverUrl)) {
    throw discoveryError(`the protected-resource metadata names resource ${resource}, which is not ${serverUrl}`)
  }
  const servers = prm['authorization_servers']
  if (!Array.isArray(servers) || typeof servers[0] !== 'string')
    throw discoveryError('the protected-resource metadata names no authorization server')
  const issuer = servers[0]
  const supported = stringArray(prm['scopes_supported'])
  const scopes = challenge?.scope ? challenge.scope.split(' ').filter(Boolean) : (supported ?? [])

  // 3. Authorization-server metadata in the spec's order; the issuer must match exactly.
  const { as, maxAgeSeconds: asMaxAge } = await discoverAuthorizationServer(issuer, f)
  checkAuthorizationServer(as, options)
  const ages = [prmAnswer.maxAgeSeconds, asMaxAge].filter((a): a is number => a !== undefined)
  return { serverUrl, resource, scopes, as, ...(ages.length > 0 ? { maxAgeSeconds: Math.min(...ages) } : {}) }
}

/** A response's freshness lifetime from `Cache-Control` (RFC 9111 §5.2.2): max-age, 0 for no-store/no-cache. */
export function cacheMaxAge(header: string | null): number | undefined {
  if (!header) return undefined
  const directives = header
    .toLowerCase()
    .split(',')
    .map((d) => d.trim())
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0
  for (const d of directives) {
    const m = /^max-age\s*=\s*"?(\d+)"?$/.exec(d)
    if (m) return Number(m[1])
  }
  return undefined
}

async function discoverAuthorizationServer(
  issuer: string,
  f: ReturnType<typeof providerFetch>,
): Promise<{ as: AuthorizationServerMetadata; maxAgeSeconds: number | undefined }> {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw discoveryError(`the authorization server ${JSON.stringify(issuer)} is not a URL`)
  }
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  const candidates = path
    ? [
        `${url.origin}/.well-known/oauth-authorization-server${path}`,
        `${url.origin}/.well-known/openid-configuration${path}`,
        `${url.origin}${path}/.well-known/openid-configuration`,
      ]
    : [`${url.origin}/.well-known/oauth-authorization-server`, `${url.origin}/.well-known/openid-configuration`]
  const answer = await firstJson(f, candidates)
  if (!answer) throw discoveryError(`no authorization-server metadata for ${issuer} (tried ${candidates.join(', ')})`)
  const json = answer.json
  // RFC 8414 §3.3 / SEP: compared as an exact string, no normalization.
  if (json['issuer'] !== issuer) {
    throw discoveryError(
      `the authorization server metadata names issuer ${JSON.stringify(json['issuer'])}, expected exactly ${JSON.stringify(issuer)}`,
    )
  }
  return { as: json as unknown as AuthorizationServerMetadata, maxAgeSeconds: answer.maxAgeSeconds }
}

/**
 * What a flow will trust: PKCE S256 advertised, an authorization endpoint on https (loopback
 * http when allowed), and the endpoints Latchkey sends secrets to (token, registration,
 * revocation) on the issuer's own origin, so a hostile metadata document cannot send codes,
 * refresh tokens or client secrets elsewhere.
 */
function checkAuthorizationServer(as: AuthorizationServerMetadata, options: DiscoveryOptions): void {
  const methods = stringArray(as.code_challenge_methods_supported)
  if (!methods?.includes('S256')) {
    throw discoveryError(`the authorization server ${as.issuer} does not advertise PKCE S256 (code_challenge_methods_supported)`)
  }
  const origin = new URL(as.issuer).origin
  const check = (field: string, value: unknown, sameOrigin: boolean) => {
    if (typeof value !== 'string') throw discoveryError(`the authorization server metadata has no ${field}`)
    let u: URL
    try {
      u = new URL(value)
    } catch {
      throw discoveryError(`${field} ${JSON.stringify(value)} is not a URL`)
    }
    if (!secureOrAllowedLoopback(u, options.allowInsecureLoopback)) {
      throw discoveryError(`${field} ${value} must use https://`)
    }
    if (sameOrigin && u.origin !== origin) throw discoveryError(`${field} ${value} is not on the issuer's origin ${origin}`)
  }
  check('authorization_endpoint', as.authorization_endpoint, false)
  check('token_endpoint', as.token_endpoint, true)
  if (as.registration_endpoint !== undefined) check('registration_endpoint', as.registration_endpoint, true)
  if (as.revocation_endpoint !== undefined) check('revocation_endpoint', as.revocation_endpoint, true)
}

/** The metadata's resource must be the server URI or a same-origin path prefix of it (RFC 9728 §3.3). */
function coversResource(resource: string, serverUrl: string): boolean {
  let r: URL
  try {
    r = new URL(resource)
  } catch {
    return false
  }
  const s = new URL(serverUrl)
  if (r.origin !== s.origin) return false
  const prefix = r.pathname.endsWith('/') ? r.pathname : `${r.pathname}/`
  return s.pathname === r.pathname || `${s.pathname}/`.startsWith(prefix)
}

/** GETs each URL in turn; the first 200 with a JSON object wins, 4xx moves on, anything else fails. */
async function firstJson(
  f: ReturnType<typeof providerFetch>,
  urls: string[],
): Promise<{ json: Record<string, unknown>; maxAgeSeconds: number | undefined } | undefined> {
  for (const url of urls) {
    const res = await f(url, { headers: { accept: 'application/json' } })
    if (res.status >= 400 && res.status < 500) {
      await res.body?.cancel()
      continue
    }
    if (res.status !== 200) {
      await res.body?.cancel()
      throw new ProviderError(res.status >= 500 ? 'transient' : 'protocol', `${url} answered HTTP ${res.status}`, { status: res.status })
    }
    const text = await readBody(res)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw discoveryError(`${url} did not answer JSON`)
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw discoveryError(`${url} did not answer a JSON object`)
    return { json: json as Record<string, unknown>, maxAgeSeconds: cacheMaxAge(res.headers.get('cache-control')) }
  }
  return undefined
}

function stringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined
}

function discoveryError(message: string): ProviderError {
  return new ProviderError('protocol', `MCP discovery: ${message}`)
}
