/**
 * @module providers/x
 * X (Twitter) API v2 OAuth 2.0 Authorization Code Flow with PKCE.
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://x.com/i/oauth2/authorize'
const tokenEndpoint = 'https://api.x.com/2/oauth2/token'
const revocationEndpoint = 'https://api.x.com/2/oauth2/revoke'
const userInfoEndpoint = 'https://api.x.com/2/users/me'

export const x = defineProvider({
  id: 'x',
  displayName: 'X',
  docsUrl: [
    'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
    'https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token',
  ],
  apiBaseUrls: ['https://api.x.com/2'],
  authorizationEndpoint,
  tokenEndpoint,
  // POST token (+ token_type_hint), client authenticated like the token endpoint.
  revocationEndpoint,
  // "Users lookup me": the user object is under `data`; needs `users.read` and `tweet.read`.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.data.id', accountLabel: '$.data.username' },
  scopeDelimiter: ' ',
  // `offline.access` is the only way to get a refresh token.
  defaultScopes: ['tweet.read', 'users.read', 'offline.access'],
  // The flow is "Authorization Code Flow with PKCE": code_challenge is a required parameter.
  pkce: 'required',
  // Confidential clients must send client_id:client_secret as HTTP Basic to the token endpoints.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Each refresh returns a new refresh token; keep the newest.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Access tokens last two hours. Public clients (no secret) send client_id in the body instead; set ' +
    'tokenEndpointAuthMethod to `none` for them. OAuth 2.0 must be enabled in the app’s authentication ' +
    'settings in the X Developer Console, with the app type (confidential or public) chosen there.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
  tokenResponse: {
    basis: 'unverified',
    body: {
      token_type: 'bearer',
      expires_in: 7200,
      access_token: 'fake-x-access-token',
      scope: 'tweet.read users.read offline.access',
      refresh_token: 'fake-x-refresh-token',
    },
    expect: {
      accessToken: 'fake-x-access-token',
      refreshToken: 'fake-x-refresh-token',
      expiresIn: 7200,
      scope: ['tweet.read', 'users.read', 'offline.access'],
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      token_type: 'bearer',
      expires_in: 7200,
      access_token: 'fake-x-access-token-2',
      scope: 'tweet.read users.read offline.access',
      refresh_token: 'fake-x-refresh-token-2',
    },
    expect: {
      accessToken: 'fake-x-access-token-2',
      refreshToken: 'fake-x-refresh-token-2',
      expiresIn: 7200,
      scope: ['tweet.read', 'users.read', 'offline.access'],
    },
  },
}
