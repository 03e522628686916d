/**
 * @module providers/box
 * Box Platform apps using user authentication (OAuth 2.0 authorization code).
 * @see https://developer.box.com/reference/get-authorize/
 * @see https://developer.box.com/guides/authentication/tokens/access-tokens/
 * @see https://developer.box.com/guides/authentication/tokens/refresh/
 * @see https://developer.box.com/guides/authentication/tokens/revoke/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://account.box.com/api/oauth2/authorize'
const tokenEndpoint = 'https://api.box.com/oauth2/token'
const revocationEndpoint = 'https://api.box.com/oauth2/revoke'
const userInfoEndpoint = 'https://api.box.com/2.0/users/me'

export const box = defineProvider({
  id: 'box',
  displayName: 'Box',
  docsUrl: [
    'https://developer.box.com/reference/get-authorize/',
    'https://developer.box.com/guides/authentication/tokens/refresh/',
    'https://developer.box.com/guides/authentication/tokens/revoke/',
  ],
  apiBaseUrls: ['https://api.box.com/2.0', 'https://upload.box.com/api/2.0'],
  authorizationEndpoint,
  tokenEndpoint,
  // POST /oauth2/revoke with client_id, client_secret and token in a form body (RFC 7009 shape);
  // revoking either token of the pair ends the grant.
  revocationEndpoint,
  // `login` is the user's e-mail address.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.login' },
  // Optional `scope` narrows the app's configured scopes; space-separated (root_readwrite manage_webhook).
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // Client credentials go in the form body of POST /oauth2/token.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last 60 minutes. "A Refresh Token is valid for 60 days and can be used to obtain a
  // new Access Token and Refresh Token only once": every refresh returns a new refresh token.
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'Scopes are chosen on the app in the Box Developer Console; without a `scope` parameter the token gets all of ' +
    'them. `redirect_uri` is optional to Box but required when the app lists several redirect URIs. Refresh ' +
    'tokens unused for 60 days expire and the user must authorize again.',
})

/**
 * The token answer as its documentation prints it, with fake values. The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.box.com/reference/resources/access-token',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-box-access-token',
      expires_in: 3600,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      refresh_token: 'fake-box-refresh-token',
      restricted_to: [],
      token_type: 'bearer',
    },
    expect: { accessToken: 'fake-box-access-token', refreshToken: 'fake-box-refresh-token', expiresIn: 3600 },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-box-access-token-2',
      expires_in: 3600,
      refresh_token: 'fake-box-refresh-token-2',
      restricted_to: [],
      token_type: 'bearer',
    },
    expect: { accessToken: 'fake-box-access-token-2', refreshToken: 'fake-box-refresh-token-2', expiresIn: 3600 },
  },
}
