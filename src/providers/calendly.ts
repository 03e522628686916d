/**
 * @module providers/calendly
 * Calendly API v2 OAuth apps (authorization code with PKCE).
 * @see https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/get-oauth-authorize
 * @see https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token
 * @see https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-revoke
 * @see https://developer.calendly.com/refresh-token-rotation-guide
 * @see https://developer.calendly.com/docs/authentication/scopes
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://auth.calendly.com/oauth/authorize'
const tokenEndpoint = 'https://auth.calendly.com/oauth/token'
const revocationEndpoint = 'https://auth.calendly.com/oauth/revoke'
const userInfoEndpoint = 'https://api.calendly.com/users/me'

export const calendly = defineProvider({
  id: 'calendly',
  displayName: 'Calendly',
  docsUrl: [
    'https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token',
    'https://developer.calendly.com/refresh-token-rotation-guide',
    'https://developer.calendly.com/docs/authentication/scopes',
  ],
  apiBaseUrls: ['https://api.calendly.com'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // "Revoke Access/Refresh Token" takes client_id and client_secret in the form body, while the
  // token endpoint uses HTTP Basic.
  revocation: { clientAuth: 'client_secret_post' },
  // Get current user (`users:read`): the user's URI is the stable id in API v2.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.resource.uri', accountLabel: '$.resource.email' },
  scopeDelimiter: ' ',
  // New apps get no API access until scopes are requested; `users:read` covers the user lookup.
  defaultScopes: ['users:read'],
  // "For all OAuth applications (web or native) use … PKCE, and S256 for code_challenge_method."
  pkce: 'required',
  // "Web clients: pass client_id and client_secret via Basic HTTP Authorization header."
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Access tokens expire after 2 hours. Refresh tokens are single-use: a successful refresh revokes
  // the one used and returns a new one (they otherwise do not expire).
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Calendly allows only 8 token requests per user per minute. Apps created before scopes existed (March 2026) ' +
    'keep full access without requesting scopes; new apps must enable each scope in the developer portal. Native ' +
    '(public) apps send only client_id: use a custom provider with auth method none for them.',
})

/**
 * The token answer as its documentation prints it, with fake values. The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token',
  tokenResponse: {
    basis: 'printed',
    body: {
      token_type: 'Bearer',
      access_token: 'fake-calendly-access-token',
      refresh_token: 'fake-calendly-refresh-token',
      scope: 'default',
      created_at: 1548689183,
      expires_in: 7200,
      owner: 'https://api.calendly.com/users/FAKEUSER',
      organization: 'https://api.calendly.com/organizations/FAKEORG',
    },
    expect: {
      accessToken: 'fake-calendly-access-token',
      refreshToken: 'fake-calendly-refresh-token',
      expiresIn: 7200,
      scope: ['default'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      token_type: 'Bearer',
      access_token: 'fake-calendly-access-token-2',
      refresh_token: 'fake-calendly-refresh-token-2',
      scope: 'default',
      created_at: 1548696383,
      expires_in: 7200,
      owner: 'https://api.calendly.com/users/FAKEUSER',
      organization: 'https://api.calendly.com/organizations/FAKEORG',
    },
    expect: {
      accessToken: 'fake-calendly-access-token-2',
      refreshToken: 'fake-calendly-refresh-token-2',
      expiresIn: 7200,
      scope: ['default'],
    },
  },
}
