/**
 * @module oauth/as-client
 * Builds oauth4webapi's authorization-server, client and client-auth objects from a
 * configured provider, so every protocol step goes through oauth4webapi the same way.
 */
import * as oauth from 'oauth4webapi'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { type ProviderHttpOptions, providerFetch } from './http.js'
import { fillPlaceholders } from './templates.js'

export interface OAuthContext {
  as: oauth.AuthorizationServer
  client: oauth.Client
  clientAuth: oauth.ClientAuth
  /** oauth4webapi request options: our fetch, headers, and http allowed for loopback dev providers. */
  options: { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]: boolean; headers: Headers }
}

export function oauthContext(p: ConfiguredProvider, http: ProviderHttpOptions, endpoint: 'token' | 'refresh' = 'token'): OAuthContext {
  const def = p.def
  const tokenEndpoint = endpoint === 'refresh' ? (def.refreshEndpoint ?? def.tokenEndpoint) : def.tokenEndpoint
  const issuer = new URL(def.authorizationEndpoint).origin
  const as: oauth.AuthorizationServer = {
    issuer,
    authorization_endpoint: def.authorizationEndpoint,
    token_endpoint: tokenEndpoint,
    ...(def.revocationEndpoint
      ? { revocation_endpoint: fillPlaceholders(def.revocationEndpoint, { client_id: encodeURIComponent(p.clientId) }) }
      : {}),
  }
  const client: oauth.Client = { client_id: p.clientId }
  const secret = p.clientSecret ?? ''
  const clientAuth =
    def.tokenEndpointAuthMethod === 'client_secret_basic'
      ? oauth.ClientSecretBasic(secret)
      : def.tokenEndpointAuthMethod === 'client_secret_post'
        ? oauth.ClientSecretPost(secret)
        : oauth.None()
  const headers = new Headers()
  for (const [k, v] of Object.entries(def.tokenRequestHeaders ?? {})) headers.set(k, fillPlaceholders(v, { client_id: p.clientId }))
  return {
    as,
    client,
    clientAuth,
    options: {
      [oauth.customFetch]: providerFetch(http, { jsonBody: def.tokenRequestContentType === 'json' }),
      // Endpoints were checked at load: http:// only reaches here for loopback dev providers.
      [oauth.allowInsecureRequests]: new URL(tokenEndpoint).protocol === 'http:',
      headers,
    },
  }
}

/** Values for `{{…}}` placeholders in request parameter templates. */
export function templateValues(p: ConfiguredProvider, extra: Record<string, string> = {}): Record<string, string> {
  return { client_id: p.clientId, client_secret: p.clientSecret ?? '', ...extra }
}
