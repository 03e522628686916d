/**
 * @module providers/reddit
 * Reddit OAuth2 code flow for web apps (`duration=permanent` for refresh tokens).
 * @see https://github.com/reddit-archive/reddit/wiki/OAuth2
 * @see https://www.reddit.com/dev/api/oauth
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://www.reddit.com/api/v1/authorize'
const tokenEndpoint = 'https://www.reddit.com/api/v1/access_token'
const revocationEndpoint = 'https://www.reddit.com/api/v1/revoke_token'
// API calls with a bearer token go to oauth.reddit.com, not www.reddit.com.
const userInfoEndpoint = 'https://oauth.reddit.com/api/v1/me'

export const reddit = defineProvider({
  id: 'reddit',
  displayName: 'Reddit',
  docsUrl: ['https://github.com/reddit-archive/reddit/wiki/OAuth2', 'https://www.reddit.com/dev/api/oauth'],
  apiBaseUrls: ['https://oauth.reddit.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // RFC 7009: `token` + `token_type_hint`, client credentials as HTTP Basic; a refresh token revokes the grant.
  revocationEndpoint,
  // GET /api/v1/me needs the `identity` scope.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.name' },
  // "A comma-separated list of scope strings" — a documented deviation from RFC 6749.
  scopeDelimiter: ',',
  defaultScopes: ['identity'],
  // PKCE is not among the documented parameters.
  pkce: 'unsupported',
  // "Client credentials sent as HTTP Basic Authorization."
  tokenEndpointAuthMethod: 'client_secret_basic',
  authorizationParams: {
    // Without duration=permanent no refresh token is issued and access ends after one hour.
    duration: 'permanent',
  },
  // Access tokens last one hour; the refresh token stays valid until revoked and is not replaced.
  refreshTokens: 'static',
  returnsGrantedScopes: true,
  notes:
    'Reddit rejects requests without a descriptive User-Agent (the core sends one). Script and installed-app ' +
    'flows are not covered. Reddit requires API access approval for most new apps under its Data API terms.',
})

/**
 * The answers built from the templates the OAuth2 wiki page prints (no values: `"access_token": Your access
 * token, "token_type": "bearer", "expires_in": Unix Epoch Seconds, "scope": A scope string, "refresh_token":
 * Your refresh token`; the refresh answer without `refresh_token`), with fake values. The wiki does not say
 * how `scope` separates scopes; the example uses a space, which is unverified.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://github.com/reddit-archive/reddit/wiki/OAuth2',
  tokenResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-reddit-access-token',
      token_type: 'bearer',
      expires_in: 3600,
      scope: 'identity read',
      refresh_token: 'fake-reddit-refresh-token',
    },
    expect: {
      accessToken: 'fake-reddit-access-token',
      refreshToken: 'fake-reddit-refresh-token',
      expiresIn: 3600,
      scope: ['identity', 'read'],
    },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-reddit-access-token-2',
      token_type: 'bearer',
      expires_in: 3600,
      scope: 'identity read',
    },
    expect: { accessToken: 'fake-reddit-access-token-2', expiresIn: 3600, scope: ['identity', 'read'] },
  },
}
