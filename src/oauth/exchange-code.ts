/**
 * @module oauth/exchange-code
 * The authorization-code grant (RFC 6749 §4.1.3) with the PKCE verifier (RFC 7636 §4.5):
 * oauth4webapi builds and sends the request; the provider's declared response quirks are
 * applied when reading it.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 */
import * as oauth from 'oauth4webapi'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { oauthContext, templateValues } from './as-client.js'
import type { ProviderHttpOptions } from './http.js'
import { asProviderError } from './provider-error.js'
import { fillPlaceholders } from './templates.js'
import { parseTokenResponse, type TokenSet } from './token-response.js'

export interface CodeExchange {
  /** Callback query parameters, already checked for `state`. */
  callbackParameters: URLSearchParams
  redirectUri: string
  codeVerifier: string | undefined
  /** The flow's requested scopes and the ones granted before (for `{{scopes}}` / `{{existing_scopes}}` in token request params). */
  scopes: readonly string[]
  existingScopes: readonly string[]
}

export async function exchangeCode(p: ConfiguredProvider, x: CodeExchange, http: ProviderHttpOptions): Promise<TokenSet> {
  const ctx = oauthContext(p, http)
  const values = templateValues(p, {
    redirect_uri: x.redirectUri,
    scopes: x.scopes.join(p.def.scopeDelimiter),
    existing_scopes: x.existingScopes.join(p.def.scopeDelimiter),
  })
  const additionalParameters = Object.fromEntries(
    Object.entries(p.def.tokenRequestParams ?? {}).map(([k, v]) => [k, fillPlaceholders(v, values)]),
  )
  let response: Response
  try {
    response = await oauth.authorizationCodeGrantRequest(
      ctx.as,
      ctx.client,
      ctx.clientAuth,
      x.callbackParameters,
      x.redirectUri,
      x.codeVerifier ?? oauth.nopkce,
      {
        ...ctx.options,
        additionalParameters,
      },
    )
  } catch (err) {
    throw asProviderError(err)
  }
  return parseTokenResponse(response, p.def.tokenResponse)
}
