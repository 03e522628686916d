/**
 * @module providers/compile-provider
 * The steps `compileProviderEntry` runs on a definition: settings resolved against their
 * patterns, `{setting}` templates filled in, and the endpoint safety policy (https only, no
 * unfilled template, loopback http only when allowed).
 */

import { isLoopbackUrl } from '../oauth/loopback.js'
import { fillSettings, placeholdersIn, settingsIn } from '../oauth/templates.js'
import type { ProviderDefinition } from './define-provider.js'

export function resolveSettings(
  def: ProviderDefinition,
  given: Record<string, string>,
  fail: (f: string, m: string) => never,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of Object.keys(given)) {
    if (!def.settings?.[name]) fail(`settings.${name}`, `${def.id} has no setting ${JSON.stringify(name)}`)
  }
  for (const [name, s] of Object.entries(def.settings ?? {})) {
    const value = given[name] ?? s.default
    if (value === undefined) fail(`settings.${name}`, `is required by ${def.id}: ${s.description} (e.g. ${s.example})`)
    const pattern = new RegExp(s.pattern ?? '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$')
    if (!pattern.test(value!)) fail(`settings.${name}`, `${JSON.stringify(value)} does not match ${pattern.source}`)
    out[name] = value!
  }
  return out
}

/** Fills `{setting}` templates in every endpoint of a definition. */
export function fillDefinition(def: ProviderDefinition, settings: Record<string, string>): ProviderDefinition {
  const f = (u: string | undefined) => (u === undefined ? undefined : fillSettings(u, settings))
  const filled: ProviderDefinition = { ...def, authorizationEndpoint: f(def.authorizationEndpoint)!, tokenEndpoint: f(def.tokenEndpoint)! }
  if (def.issuer) filled.issuer = f(def.issuer)!
  if (def.refreshEndpoint) filled.refreshEndpoint = f(def.refreshEndpoint)!
  if (def.revocationEndpoint) filled.revocationEndpoint = f(def.revocationEndpoint)!
  if (def.userInfo) filled.userInfo = { ...def.userInfo, endpoint: f(def.userInfo.endpoint)! }
  if (def.apiBaseUrls) filled.apiBaseUrls = def.apiBaseUrls.map((u) => f(u)!)
  if (def.authorizationParams) {
    filled.authorizationParams = Object.fromEntries(
      Object.entries(def.authorizationParams).map(([k, v]) => [k, v === null ? null : fillSettings(v, settings)]),
    )
  }
  return filled
}

export function endpointsOf(def: ProviderDefinition): Array<[string, string]> {
  const list: Array<[string, string | undefined]> = [
    ['authorizationEndpoint', def.authorizationEndpoint],
    ['tokenEndpoint', def.tokenEndpoint],
    ['refreshEndpoint', def.refreshEndpoint],
    ['revocationEndpoint', def.revocationEndpoint],
    ['userInfo.endpoint', def.userInfo?.endpoint],
  ]
  return list.filter((e): e is [string, string] => e[1] !== undefined)
}

export function expressionsOf(def: ProviderDefinition): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const [k, v] of Object.entries(def.tokenResponse?.map ?? {})) out.push([`tokenResponse.map.${k}`, v])
  for (const [k, v] of Object.entries(def.tokenResponse?.keep ?? {})) out.push([`tokenResponse.keep.${k}`, v])
  for (const [k, v] of Object.entries(def.refreshResponse?.map ?? {})) out.push([`refreshResponse.map.${k}`, v])
  for (const [k, v] of Object.entries(def.userInfo?.map ?? {})) out.push([`userInfo.map.${k}`, v])
  if (def.userInfo?.accountId) out.push(['userInfo.accountId', def.userInfo.accountId])
  if (def.userInfo?.accountLabel) out.push(['userInfo.accountLabel', def.userInfo.accountLabel])
  return out
}

/** `placeholders`: the `{{…}}` values the request to this endpoint fills in its URL (the revocation URL: the client id). */
export function checkEndpoint(
  raw: string,
  field: string,
  placeholders: readonly string[],
  allowInsecureLoopback: boolean,
  fail: (f: string, m: string) => never,
): void {
  if (settingsIn(raw).length > 0) fail(field, `unfilled setting in ${raw}`)
  for (const p of placeholdersIn(raw)) {
    if (!placeholders.includes(p))
      fail(
        field,
        `{{${p}}} is not filled in this URL${placeholders.length > 0 ? ` (available: ${placeholders.map((a) => `{{${a}}}`).join(', ')})` : ''}`,
      )
  }
  // `{{client_id}}` may appear in a path (GitHub's revocation URL); check the URL around it.
  let url: URL
  try {
    url = new URL(raw.replace(/\{\{\s*[a-z_]+\s*\}\}/g, 'x'))
  } catch {
    fail(field, `${JSON.stringify(raw)} is not a URL`)
  }
  if (url.protocol === 'https:') return
  if (url.protocol === 'http:' && isLoopbackUrl(url)) {
    if (allowInsecureLoopback) return
    fail(field, `${raw} uses http://; allowed on loopback only with LATCHKEY_ALLOW_INSECURE_LOOPBACK_PROVIDERS=true (never in production)`)
  }
  fail(field, `${raw} must use https://`)
}

/**
 * An API base URL the proxy may forward under: an endpoint (https, or loopback http when
 * allowed) with no query, fragment or credentials. Returned without a trailing slash, the form
 * the proxy joins paths to.
 */
export function checkApiBaseUrl(raw: string, field: string, allowInsecureLoopback: boolean, fail: (f: string, m: string) => never): string {
  checkEndpoint(raw, field, [], allowInsecureLoopback, fail)
  const url = new URL(raw)
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) fail(field, `${raw} must not have a query or fragment`)
  if (url.username || url.password) fail(field, `${raw} must not contain credentials`)
  // On the raw text: the URL parser would already have resolved `a/../b` to `/b`.
  if (/%2f|%5c|\\/i.test(raw) || /\/(\.|%2e){1,2}(\/|$)/i.test(raw)) {
    fail(field, `${raw} must be a plain path (no dot segments or encoded slashes)`)
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}
