/**
 * @module oauth/refresh-access-token
 * The refresh-token grant (RFC 6749 §6) through oauth4webapi, reading the response with the
 * provider's declared quirks (refresh responses may be shaped differently from the code
 * exchange, e.g. Slack).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
import * as oauth from 'oauth4webapi'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { oauthContext, templateValues } from './as-client.js'
import type { ProviderHttpOptions } from './http.js'
import { asProviderError } from './provider-error.js'
import { fillPlaceholders } from './templates.js'
import { parseTokenResponse, type TokenSet } from './token-response.js'

/** `scopes`: the connection's granted scopes, for a `{{scopes}}` placeholder in the provider's refresh params. */
export async function refreshAccessToken(
  p: ConfiguredProvider,
  refreshToken: string,
  scopes: readonly string[],
  http: ProviderHttpOptions,
): Promise<TokenSet> {
  const ctx = oauthContext(p, http, 'refresh')
  const values = templateValues(p, { refresh_token: refreshToken, scopes: scopes.join(p.def.scopeDelimiter) })
  const additionalParameters = Object.fromEntries(
    Object.entries(p.def.refreshRequestParams ?? {}).map(([k, v]) => [k, fillPlaceholders(v, values)]),
  )
  let response: Response
  try {
    response = await oauth.refreshTokenGrantRequest(ctx.as, ctx.client, ctx.clientAuth, refreshToken, {
      ...ctx.options,
      additionalParameters,
    })
  } catch (err) {
    throw asProviderError(err)
  }
  return parseTokenResponse(response, p.def.refreshResponse ?? p.def.tokenResponse)
}
