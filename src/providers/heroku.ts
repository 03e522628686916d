/**
 * @module providers/heroku
 * Heroku Platform API OAuth 2.0 (web application authorization).
 * @see https://devcenter.heroku.com/articles/oauth
 * @see https://devcenter.heroku.com/articles/platform-api-reference#account
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://id.heroku.com/oauth/authorize'
const tokenEndpoint = 'https://id.heroku.com/oauth/token'
const userInfoEndpoint = 'https://api.heroku.com/account'

export const heroku = defineProvider({
  id: 'heroku',
  displayName: 'Heroku',
  docsUrl: 'https://devcenter.heroku.com/articles/oauth',
  apiBaseUrls: ['https://api.heroku.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocationEndpoint: revoking is DELETE https://api.heroku.com/oauth/authorizations/{id},
  // keyed by the authorization id rather than by a token; see notes.
  userInfo: {
    endpoint: userInfoEndpoint,
    // The Platform API requires its versioned media type.
    headers: { accept: 'application/vnd.heroku+json; version=3' },
    accountId: '$.id',
    accountLabel: '$.email',
  },
  // Scopes: identity, read, write, read-protected, write-protected, global.
  scopeDelimiter: ' ',
  defaultScopes: ['identity'],
  pkce: 'unsupported',
  // The exchange sends `client_secret` with the code in the form body.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last 8 hours; the refresh token does not expire and is reused.
  refreshTokens: 'static',
  returnsGrantedScopes: false,
  notes:
    'The token response carries `user_id` and `session_nonce`. To revoke, list the user’s authorizations ' +
    '(GET /oauth/authorizations) and DELETE the one for this client; the revocation model cannot express it.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://devcenter.heroku.com/articles/oauth',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-heroku-access-token',
      expires_in: 28800,
      refresh_token: 'fake-heroku-refresh-token',
      token_type: 'Bearer',
      user_id: 'fake-user-id',
      session_nonce: 'fake-nonce',
    },
    expect: { accessToken: 'fake-heroku-access-token', refreshToken: 'fake-heroku-refresh-token', expiresIn: 28800 },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-heroku-access-token-2',
      expires_in: 28800,
      refresh_token: 'fake-heroku-refresh-token',
      token_type: 'Bearer',
      user_id: 'fake-user-id',
      session_nonce: 'fake-nonce',
    },
    expect: {
      accessToken: 'fake-heroku-access-token-2',
      refreshToken: 'fake-heroku-refresh-token',
      expiresIn: 28800,
    },
  },
}
