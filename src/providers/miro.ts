/**
 * @module providers/miro
 * Miro REST API apps (OAuth 2.0 authorization code; expiring user tokens).
 * @see https://developers.miro.com/docs/getting-started-with-oauth
 * @see https://developers.miro.com/reference/authorization-flow-for-expiring-access-tokens
 * @see https://developers.miro.com/reference/get-new-access-token-using-refresh-token
 * @see https://developers.miro.com/reference/get-access-token-context
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://miro.com/oauth/authorize'
const tokenEndpoint = 'https://api.miro.com/v1/oauth/token'
const userInfoEndpoint = 'https://api.miro.com/v1/oauth-token'

export const miro = defineProvider({
  id: 'miro',
  displayName: 'Miro',
  docsUrl: [
    'https://developers.miro.com/docs/getting-started-with-oauth',
    'https://developers.miro.com/reference/get-new-access-token-using-refresh-token',
  ],
  apiBaseUrls: ['https://api.miro.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocationEndpoint: POST /v2/oauth/revoke takes a JSON body with camelCase `accessToken`,
  // `clientId` and `clientSecret`, which the revocation options cannot express; the older v1
  // endpoint (token in the query string) is deprecated.
  // "Get access token context": the token's user, team and scopes.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user.id', accountLabel: '$.user.name' },
  // Scopes are chosen on the app (boards:read, boards:write, …); the authorize link needs none.
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // The docs send client_id and client_secret as body parameters of the token request.
  tokenEndpointAuthMethod: 'client_secret_post',
  // With "expire user authorization token" enabled on the app: 1 h access tokens, 60-day refresh
  // tokens, and "when a new access token is requested, you also get a new refresh token" (the old
  // pair stops working). Apps without it get non-expiring tokens and no refresh token.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'The token is bound to the one team the user picks during install (`team_id` in the token response; an ' +
    'optional `team_id` authorize parameter preselects it). The expiring-token choice is fixed when the app is ' +
    'created. To revoke, call POST https://api.miro.com/v2/oauth/revoke with a JSON body outside the broker.',
})

/**
 * The token answer, with fake values, compared with the "Example response" Miro's "Getting started
 * with OAuth 2.0" prints (`source`, Step 2): `user_id` and `team_id` as strings, `refresh_token`,
 * `access_token`, `expires_in: 3599`, `scope` space-separated (`"boards:write boards:read"`),
 * `token_type: "bearer"`. The refresh answer is `fields`: Step 4 prints no body but says it carries a
 * new access token and a new refresh token (valid another 60 days) from the same endpoint; the rest
 * of its shape is assumed to be the token answer's.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.miro.com/docs/getting-started-with-oauth',
  tokenResponse: {
    basis: 'printed',
    body: {
      user_id: '3074457350804038700',
      refresh_token: 'fake-miro-refresh-token',
      access_token: 'fake-miro-access-token',
      expires_in: 3599,
      team_id: '3074457350804038697',
      scope: 'boards:write boards:read',
      token_type: 'bearer',
    },
    expect: {
      accessToken: 'fake-miro-access-token',
      refreshToken: 'fake-miro-refresh-token',
      expiresIn: 3599,
      scope: ['boards:write', 'boards:read'],
    },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      user_id: '3074457350804038700',
      refresh_token: 'fake-miro-refresh-token-2',
      access_token: 'fake-miro-access-token-2',
      expires_in: 3599,
      team_id: '3074457350804038697',
      scope: 'boards:write boards:read',
      token_type: 'bearer',
    },
    expect: {
      accessToken: 'fake-miro-access-token-2',
      refreshToken: 'fake-miro-refresh-token-2',
      expiresIn: 3599,
      scope: ['boards:write', 'boards:read'],
    },
  },
}
