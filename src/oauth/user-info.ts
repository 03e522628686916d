/**
 * @module oauth/user-info
 * Fetches the account behind a token (OIDC userinfo or the provider's "me" endpoint) and
 * extracts the account id and label the provider file declares. Without a `map`, the whole
 * response is kept as `user_info` (Arcade's documented behaviour).
 */
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { evaluate } from './expressions.js'
import { type ProviderHttpOptions, providerFetch, readBody } from './http.js'
import { ProviderError } from './provider-error.js'
import { fillPlaceholders } from './templates.js'

export interface UserInfo {
  userInfo: Record<string, unknown>
  accountId: string | undefined
  accountLabel: string | undefined
}

export async function fetchUserInfo(p: ConfiguredProvider, accessToken: string, http: ProviderHttpOptions): Promise<UserInfo | undefined> {
  const spec = p.def.userInfo
  if (!spec) return undefined
  const headers = new Headers({ accept: 'application/json', authorization: `Bearer ${accessToken}` })
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers.set(k, fillPlaceholders(v, { client_id: p.clientId }))
  if (spec.body) headers.set('content-type', 'application/json')
  const response = await providerFetch(http)(spec.endpoint, {
    method: spec.body ? 'POST' : (spec.method ?? 'GET'),
    headers,
    body: spec.body ? JSON.stringify(spec.body) : null,
  })
  const text = await readBody(response)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new ProviderError('protocol', `userinfo endpoint answered with a non-JSON body (HTTP ${response.status})`, {
      status: response.status,
    })
  }
  // GraphQL answers HTTP 200 with `errors`; Slack with `ok: false`.
  if (
    !response.ok ||
    (body as Record<string, unknown>)?.['ok'] === false ||
    (spec.body && Array.isArray((body as Record<string, unknown>)?.['errors']))
  ) {
    const b = body as Record<string, unknown>
    throw ProviderError.fromErrorBody(response.status, typeof b?.['error'] === 'string' ? b['error'] : undefined, undefined)
  }
  const userInfo = spec.map
    ? Object.fromEntries(Object.entries(spec.map).map(([k, expr]) => [k, evaluate(expr, body)]))
    : body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : { value: body }
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined)
  return {
    userInfo,
    accountId: spec.accountId ? str(evaluate(spec.accountId, body)) : str(userInfo['sub'] ?? userInfo['id']),
    accountLabel: spec.accountLabel ? str(evaluate(spec.accountLabel, body)) : str(userInfo['email'] ?? userInfo['name']),
  }
}
