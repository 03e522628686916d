/**
 * @module broker/proxy-target
 * The pure parts of the proxy: where a call goes (a path joined under one of the provider's
 * declared API base URLs, refused when it could leave it), which headers cross in each
 * direction, and the path template the audit trail records instead of the path.
 */
import { LatchkeyError } from '../errors.js'
import { secureOrAllowedLoopback } from '../oauth/loopback.js'

/**
 * The upstream URL for `rawPath` (the request path after `/v1/proxy/<provider>/`, still
 * percent-encoded, with its query) under the base `chosen` (one of `bases`, exactly; default the
 * first). Refuses dot segments (`..`, `%2e%2e`), encoded slashes or backslashes, empty segments
 * (`//`, which could turn into a scheme-relative URL), control characters, and anything whose
 * parsed URL is not under the base: the host and base path cannot change.
 */
export function upstreamUrl(bases: readonly string[], chosen: string | undefined, rawPath: string): URL {
  const base = chosen === undefined ? bases[0] : bases.find((b) => b === chosen.replace(/\/+$/, ''))
  if (base === undefined) {
    throw new LatchkeyError('BAD_REQUEST', `Latchkey-Api-Base must be one of the provider's API base URLs: ${bases.join(', ')}`)
  }
  const q = rawPath.indexOf('?')
  const path = q === -1 ? rawPath : rawPath.slice(0, q)
  const query = q === -1 ? '' : rawPath.slice(q + 1)
  const refuse = (why: string): never => {
    throw new LatchkeyError('BAD_REQUEST', `proxy path refused: ${why}`)
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f\\#]/.test(rawPath)) refuse('control characters, backslashes and fragments are not allowed')
  if (path !== '') {
    const segments = path.split('/')
    for (const [i, segment] of segments.entries()) {
      // One trailing slash is part of some APIs' paths; an empty segment anywhere else is not.
      if (segment === '' && i !== segments.length - 1) refuse('empty path segments (//) are not allowed')
      // Without an escape the segment is its own decoding, and the checks above already refused
      // backslashes and control characters: only dot segments are left to refuse.
      if (!segment.includes('%')) {
        if (segment === '.' || segment === '..') refuse('dot segments (. and ..) are not allowed')
        continue
      }
      let decoded = ''
      try {
        decoded = decodeURIComponent(segment)
      } catch {
        refuse('bad percent-encoding')
      }
      if (decoded === '.' || decoded === '..') refuse('dot segments (. and ..) are not allowed')
      if (decoded.includes('/') || decoded.includes('\\')) refuse('encoded slashes (%2F, %5C) are not allowed')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: as above, once decoded.
      if (/[\u0000-\u001f\u007f]/.test(decoded)) refuse('control characters are not allowed')
    }
  }
  const root = rootOf(base)
  const url = new URL(`${base}${path === '' ? '' : `/${path}`}${query === '' ? '' : `?${query}`}`)
  const basePath = root.path
  if (url.origin !== root.origin || (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`))) {
    refuse(`the URL would leave ${base}`)
  }
  return url
}

/** A base URL's origin and path (no trailing slash), parsed once per base rather than per call. */
const roots = new Map<string, { origin: string; path: string }>()
function rootOf(base: string): { origin: string; path: string } {
  let root = roots.get(base)
  if (root === undefined) {
    const url = new URL(base)
    root = { origin: url.origin, path: url.pathname.replace(/\/+$/, '') }
    // Bases are declared ones, or a connection's origin under the provider's host patterns; bounded anyway.
    if (roots.size >= 1_000) roots.clear()
    roots.set(base, root)
  }
  return root
}

/**
 * The API base of one connection, for a provider whose API host comes with each connection
 * (`ProviderDefinition.connectionApiBase`): the origin kept in `user_info`, which must be https
 * (http only for loopback when `allowInsecureLoopback`), carry no credentials, path, query or
 * fragment, and have a host the provider's patterns allow. The outbound guard still checks the
 * final URL and its addresses.
 * @throws LatchkeyError UPSTREAM_REFUSED when the value is missing or not allowed
 */
export function connectionApiBase(
  spec: { userInfo: string; path?: string | undefined; hosts: readonly string[] },
  userInfo: Record<string, unknown> | null,
  allowInsecureLoopback: boolean,
): string {
  const refuse = (why: string): never => {
    throw new LatchkeyError('UPSTREAM_REFUSED', `this connection's API host (user_info.${spec.userInfo}) ${why}`)
  }
  const value = userInfo?.[spec.userInfo]
  if (typeof value !== 'string' || value === '') return refuse('is not known: authorize again')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return refuse('is not a URL')
  }
  if (!secureOrAllowedLoopback(url, allowInsecureLoopback)) refuse('is not https')
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
    refuse('must be an origin (no credentials, path, query or fragment)')
  }
  const host = url.hostname.toLowerCase()
  const allowed = spec.hosts.some((p) =>
    p.startsWith('*.') ? host.endsWith(p.slice(1).toLowerCase()) && host.length > p.length - 1 : host === p.toLowerCase(),
  )
  if (!allowed) refuse(`is not one of the provider's API hosts (${spec.hosts.join(', ')})`)
  return `${url.origin}${(spec.path ?? '').replace(/\/+$/, '')}`
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and their old companions: never forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Caller headers that never reach the provider: its credentials for Latchkey, its cookies, Latchkey's own, where it came from. */
const NOT_UPSTREAM = new Set(['host', 'authorization', 'cookie', 'cookie2', 'expect', 'forwarded', 'x-real-ip', 'via'])

type Headers = Record<string, string | string[] | undefined>

/** Names listed in the `connection` header are hop-by-hop too. */
function connectionListed(headers: Headers): Set<string> {
  const v = headers['connection']
  const list = Array.isArray(v) ? v.join(',') : (v ?? '')
  return new Set(
    list
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  )
}

/**
 * The caller's headers as the provider gets them: without hop-by-hop headers, its Latchkey API
 * key (`authorization`), cookies, `latchkey-*`, forwarding headers and any header the credential
 * sets (`injected`, lower-case), which are then added by the caller of this function.
 */
export function upstreamHeaders(incoming: Headers, injected: Record<string, string>): Record<string, string | string[]> {
  const listed = connectionListed(incoming)
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue
    const n = name.toLowerCase()
    if (HOP_BY_HOP.has(n) || NOT_UPSTREAM.has(n) || listed.has(n) || n.startsWith('latchkey-') || n.startsWith('x-forwarded-')) continue
    if (n in injected) continue
    out[n] = value
  }
  for (const name in injected) out[name] = injected[name]!
  return out
}

/**
 * The provider's headers as the caller gets them: without hop-by-hop headers and cookies (the
 * provider's session belongs to Latchkey's call, not to the agent), and without any header whose
 * value contains one of `secrets` (a provider that echoes the Authorization header back).
 */
export function downstreamHeaders(incoming: Headers, secrets: readonly string[]): Record<string, string | string[]> {
  const listed = connectionListed(incoming)
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue
    const n = name.toLowerCase()
    if (HOP_BY_HOP.has(n) || listed.has(n) || n === 'set-cookie' || n === 'set-cookie2') continue
    const joined = Array.isArray(value) ? value.join('\n') : value
    if (secrets.some((s) => s !== '' && joined.includes(s))) continue
    out[n] = value
  }
  return out
}

const WORD = /^[A-Za-z._-]*$/
/** `v1`, `v2beta1`, `2.0`: API versions, not ids. */
const VERSION = /^(v\d{1,3}([a-z]+\d{0,3})?|\d{1,2}\.\d{1,2})$/
const QUERY_NAME = /^[A-Za-z0-9._\-[\]]{1,64}$/

/**
 * What the audit trail records of a path: words (letters, `.`, `_`, `-`) and version segments
 * (`v2`, `2.0`) as they are, any other segment (ids, e-mail addresses, anything with a digit or
 * an escape) as `*`; of the query only the parameter names. So the Gmail path
 * `/gmail/v1/users/me@x.com/messages/18c?q=secret` is recorded as `/gmail/v1/users/STAR/messages/STAR?q`
 * (STAR being `*`).
 */
export function pathTemplate(url: URL): string {
  const segments = url.pathname.split('/').map((s) => (s.length <= 64 && (WORD.test(s) || VERSION.test(s)) ? s : '*'))
  const path = segments.join('/').slice(0, 512)
  // Most calls have no query: no URLSearchParams is made for them.
  if (url.search === '') return path
  const names = [...new Set([...url.searchParams.keys()])].map((k) => (QUERY_NAME.test(k) ? k : '*'))
  return names.length === 0 ? path : `${path}?${names.join('&')}`
}
