/**
 * @module providers/monday
 * monday.com apps: OAuth 2.0 authorization code flow (non-expiring tokens).
 * @see https://developer.monday.com/apps/docs/oauth
 * @see https://developer.monday.com/api-reference/docs/authentication
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://auth.monday.com/oauth2/authorize'
const tokenEndpoint = 'https://auth.monday.com/oauth2/token'

export const monday = defineProvider({
  id: 'monday',
  displayName: 'monday.com',
  docsUrl: ['https://developer.monday.com/apps/docs/oauth'],
  apiBaseUrls: ['https://api.monday.com/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocation endpoint in this flow: "this token will be valid until the user uninstalls your app".
  // No userInfo: the monday API is GraphQL only (POST https://api.monday.com/v2 with `{ me { id email } }`,
  // scope me:read), and a user-info request cannot carry a body.
  // Scopes listed on the app (boards:read, me:read, …); omitting `scope` requests all of them.
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // The code is POSTed with client_id, client_secret and redirect_uri to the token endpoint.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Tokens never expire and no refresh token is issued.
  refreshTokens: 'none',
  returnsGrantedScopes: true,
  notes:
    'An account admin must have installed the app before other users can complete OAuth. monday.com is rolling ' +
    'out an opt-in OAuth 2.1 flow (short-lived tokens, refresh tokens, revocation, PKCE, RFC 8414 discovery) ' +
    'with a different token endpoint; once an app is switched to it, this definition no longer applies and a ' +
    'custom provider should be used. API calls should send an `API-Version` header.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The provider documents no separate refresh answer.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.monday.com/apps/docs/oauth',
  tokenResponse: {
    basis: 'unverified',
    body: { access_token: 'fake-monday-access-token', token_type: 'Bearer', scope: 'me:read boards:read' },
    expect: { accessToken: 'fake-monday-access-token', scope: ['me:read', 'boards:read'] },
  },
}
