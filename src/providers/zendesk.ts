/**
 * @module providers/zendesk
 * Zendesk Support OAuth 2.0 authorization code flow for one Zendesk subdomain.
 * @see https://support.zendesk.com/hc/en-us/articles/4408845965210-Using-OAuth-authentication-with-your-application
 * @see https://developer.zendesk.com/documentation/api-basics/authentication/refresh-token
 * @see https://developer.zendesk.com/api-reference/ticketing/oauth/oauth_tokens/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{subdomain}.zendesk.com/oauth/authorizations/new'
const tokenEndpoint = 'https://{subdomain}.zendesk.com/oauth/tokens'
// "Revoke Token": DELETE /api/v2/oauth/tokens/current revokes the token used to call it.
const revocationEndpoint = 'https://{subdomain}.zendesk.com/api/v2/oauth/tokens/current.json'
const userInfoEndpoint = 'https://{subdomain}.zendesk.com/api/v2/users/me.json'

export const zendesk = defineProvider({
  id: 'zendesk',
  displayName: 'Zendesk',
  docsUrl: [
    'https://support.zendesk.com/hc/en-us/articles/4408845965210-Using-OAuth-authentication-with-your-application',
    'https://developer.zendesk.com/documentation/api-basics/authentication/refresh-token',
  ],
  apiBaseUrls: ['https://{subdomain}.zendesk.com/api/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  revocation: { prefer: 'access_token', method: 'DELETE', clientAuth: 'bearer_access_token' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user.id', accountLabel: '$.user.email' },
  settings: {
    subdomain: {
      description: 'Zendesk account subdomain (`acme` for acme.zendesk.com)',
      example: 'acme',
      pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
    },
  },
  // Scopes are space-separated: `read`, `write` or resource scopes such as `tickets:read`.
  scopeDelimiter: ' ',
  defaultScopes: ['users:read'],
  // Public clients must use PKCE; confidential clients may use PKCE and/or the client secret.
  pkce: 'supported',
  // client_id and client_secret go in the body of the POST to /oauth/tokens.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens expire and are renewed with the refresh token, which is replaced on each refresh.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'The code exchange accepts optional `expires_in` and `refresh_token_expires_in` (seconds) to pick the token ' +
    'lifetimes; set them via `tokenRequestParams` if the defaults do not suit. A global OAuth client (requested ' +
    'from Zendesk) is needed to authorize other accounts’ subdomains with one client id.',
})

/**
 * The token and refresh answers, with fake values, compared with the bodies Zendesk's help-center
 * article "Using OAuth authentication with your application" prints (`source`; its Step 3 and
 * "Refreshing an access token"): top-level `access_token`, `refresh_token`, `token_type: "bearer"`,
 * `scope` as a space-separated string (`"read"`), `expires_in: 172800` and `refresh_token_expires_in`
 * in seconds. (The refresh sample prints `80000`, the request asked for `800000`; the shape is the same.)
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://support.zendesk.com/hc/en-us/articles/4408845965210-Using-OAuth-authentication-with-your-application',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-zendesk-access-token',
      token_type: 'bearer',
      scope: 'read',
      refresh_token: 'fake-zendesk-refresh-token',
      expires_in: 172800,
      refresh_token_expires_in: 800000,
    },
    expect: {
      accessToken: 'fake-zendesk-access-token',
      refreshToken: 'fake-zendesk-refresh-token',
      expiresIn: 172800,
      scope: ['read'],
      refreshTokenExpiresIn: 800000,
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-zendesk-access-token-2',
      token_type: 'bearer',
      scope: 'read',
      refresh_token: 'fake-zendesk-refresh-token-2',
      expires_in: 172800,
      refresh_token_expires_in: 800000,
    },
    expect: {
      accessToken: 'fake-zendesk-access-token-2',
      refreshToken: 'fake-zendesk-refresh-token-2',
      expiresIn: 172800,
      scope: ['read'],
      refreshTokenExpiresIn: 800000,
    },
  },
}
