/**
 * @module providers/bitbucket
 * Bitbucket Cloud OAuth 2.0 consumers (authorization code grant).
 * @see https://developer.atlassian.com/cloud/bitbucket/oauth-2/
 * @see https://support.atlassian.com/bitbucket-cloud/docs/use-oauth-on-bitbucket-cloud/
 * @see https://community.developer.atlassian.com/t/oauth-2-0-and-api-authentication-changes-for-bitbucket-cloud/99003
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://bitbucket.org/site/oauth2/authorize'
const tokenEndpoint = 'https://bitbucket.org/site/oauth2/access_token'
const userInfoEndpoint = 'https://api.bitbucket.org/2.0/user'

export const bitbucket = defineProvider({
  id: 'bitbucket',
  displayName: 'Bitbucket Cloud',
  docsUrl: [
    'https://developer.atlassian.com/cloud/bitbucket/oauth-2/',
    'https://support.atlassian.com/bitbucket-cloud/docs/use-oauth-on-bitbucket-cloud/',
  ],
  apiBaseUrls: ['https://api.bitbucket.org/2.0'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocation endpoint is documented for Bitbucket Cloud OAuth 2.0 tokens.
  // `uuid` is the stable user id (`{…}` with braces); the `account` scope is needed for /2.0/user.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.uuid', accountLabel: '$.username' },
  scopeDelimiter: ' ',
  // Scopes are the permission checkboxes of the OAuth consumer; none are sent by default.
  pkce: 'unsupported',
  // Every documented token request is `curl -u "client_id:secret"` (HTTP Basic).
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Access tokens last 2 hours (`expires_in: 7200`). Consumers "must support rotating refresh tokens;
  // each use of a refresh token will generate a new refresh token" (enforced from 4 May 2026), and
  // unused refresh tokens expire after 3 months.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Until the May 2026 change, token responses name the granted scopes `scopes` instead of `scope`; the core ' +
    'then falls back to the requested scopes. The consumer needs at least the "Account: Read" permission for the ' +
    'user lookup; e-mail addresses need `email` and GET /2.0/user/emails. This is Bitbucket Cloud only: ' +
    'Bitbucket Data Center runs its own OAuth 2.0 server at /rest/oauth2/latest/ on each instance.',
})

/**
 * The token answer built from the fields its documentation names (it prints no example), as
 * remembered, with fake values: unverified, not yet checked against `source`. The provider documents no separate refresh answer.
 * The page shows the curl request but no response body; built from the RFC 6749 fields it names (2 h tokens). Answers seen from Bitbucket carry the granted scopes as `scopes`, which the page does not document, so it is neither mapped nor in this example.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.atlassian.com/cloud/bitbucket/oauth-2/',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-bitbucket-access-token',
      token_type: 'bearer',
      expires_in: 7200,
      refresh_token: 'fake-bitbucket-refresh-token',
      state: 'authorization_code',
    },
    expect: {
      accessToken: 'fake-bitbucket-access-token',
      refreshToken: 'fake-bitbucket-refresh-token',
      expiresIn: 7200,
    },
  },
}
