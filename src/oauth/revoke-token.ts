/**
 * @module oauth/revoke-token
 * Token revocation (RFC 7009) through oauth4webapi, or the provider's declared variant
 * (GitHub: DELETE with a JSON body and basic auth; Slack: the token as bearer credential).
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
import * as oauth from 'oauth4webapi'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { oauthContext } from './as-client.js'
import { type ProviderHttpOptions, providerFetch, readBody } from './http.js'
import { asProviderError, ProviderError } from './provider-error.js'

export interface RevocableTokens {
  accessToken: string
  refreshToken: string | undefined
}

/** Returns false when the provider has no revocation endpoint. Throws ProviderError on failure. */
export async function revokeToken(p: ConfiguredProvider, tokens: RevocableTokens, http: ProviderHttpOptions): Promise<boolean> {
  const def = p.def
  if (!def.revocationEndpoint) return false
  const ctx = oauthContext(p, http)
  const r = def.revocation ?? {}
  const useRefresh = (r.prefer ?? 'refresh_token') === 'refresh_token' && tokens.refreshToken !== undefined
  const token = useRefresh ? tokens.refreshToken! : tokens.accessToken
  const hint = useRefresh ? 'refresh_token' : 'access_token'
  const standard =
    r.method === undefined && r.body === undefined && r.clientAuth === undefined && r.tokenParam === undefined && r.headers === undefined
  try {
    if (standard) {
      const response = await oauth.revocationRequest(ctx.as, ctx.client, ctx.clientAuth, token, {
        ...ctx.options,
        additionalParameters: { token_type_hint: hint },
      })
      await oauth.processRevocationResponse(response)
      return true
    }
    const headers = new Headers({ accept: 'application/json', ...r.headers })
    const body: Record<string, string> = { [r.tokenParam ?? 'token']: token }
    const auth = r.clientAuth ?? def.tokenEndpointAuthMethod
    if (auth === 'client_secret_basic') {
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`${encodeURIComponent(p.clientId)}:${encodeURIComponent(p.clientSecret ?? '')}`).toString('base64')}`,
      )
    } else if (auth === 'client_secret_post') {
      body['client_id'] = p.clientId
      if (p.clientSecret) body['client_secret'] = p.clientSecret
    } else if (auth === 'bearer_access_token') {
      headers.set('authorization', `Bearer ${tokens.accessToken}`)
    }
    const json = r.body === 'json'
    if (r.body !== 'none') headers.set('content-type', json ? 'application/json' : 'application/x-www-form-urlencoded')
    const response = await providerFetch(http)(ctx.as.revocation_endpoint!, {
      method: r.method ?? 'POST',
      headers,
      body: r.body === 'none' ? null : json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
    })
    const text = await readBody(response)
    let parsed: Record<string, unknown> | undefined
    try {
      parsed = JSON.parse(text) as Record<string, unknown>
    } catch {
      parsed = undefined
    }
    // Slack answers HTTP 200 with { ok: false, error } on failure.
    if (!response.ok || parsed?.['ok'] === false) {
      throw ProviderError.fromErrorBody(response.status, typeof parsed?.['error'] === 'string' ? parsed['error'] : undefined, undefined)
    }
    return true
  } catch (err) {
    throw asProviderError(err)
  }
}
