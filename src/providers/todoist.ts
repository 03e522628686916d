/**
 * @module providers/todoist
 * Todoist API v1 OAuth 2.0 (authorization code, refresh tokens for new apps).
 * @see https://developer.todoist.com/api/v1/#tag/Authorization/OAuth
 * @see https://developer.todoist.com/api/v1/#tag/Authorization/Refreshing-access-tokens
 * @see https://developer.todoist.com/api/v1/#tag/Authorization/operation/revoke_token_rfc7009_compliant_api_v1_revoke_post
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://app.todoist.com/oauth/authorize'
const tokenEndpoint = 'https://api.todoist.com/oauth/access_token'
const revocationEndpoint = 'https://api.todoist.com/api/v1/revoke'
const userInfoEndpoint = 'https://api.todoist.com/api/v1/user'

export const todoist = defineProvider({
  id: 'todoist',
  displayName: 'Todoist',
  docsUrl: [
    'https://developer.todoist.com/api/v1/#tag/Authorization/OAuth',
    'https://developer.todoist.com/api/v1/#tag/Authorization/Refreshing-access-tokens',
  ],
  apiBaseUrls: ['https://api.todoist.com'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // "Revoke Token Rfc7009 Compliant": the client must authenticate with HTTP Basic here,
  // although the token endpoint takes client_id/client_secret in the body.
  revocation: { prefer: 'access_token', clientAuth: 'client_secret_basic' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  // "A comma separated list of permissions" in the authorize request.
  scopeDelimiter: ',',
  defaultScopes: ['data:read'],
  // PKCE is documented (code_challenge / code_verifier) for public and metadata-document clients.
  pkce: 'supported',
  tokenEndpointAuthMethod: 'client_secret_post',
  // Apps created since refresh tokens were introduced get 1 h access tokens and refresh tokens
  // that rotate on every refresh (reuse after a 60 s grace window revokes the whole grant).
  // Legacy apps get no refresh token and `expires_in: 315360000` (10 years).
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'A refresh retried within 60 s returns the same access token without `refresh_token`: keep the previous one. ' +
    'Todoist has no identity-only scope; `data:read` is the narrowest scope that can read the user.',
})

/**
 * The token answer as its documentation prints it, with fake values. The provider documents no separate refresh answer.
 * The token exchange answers `access_token` and `token_type` only (the SDK's `AuthTokenResponse`).
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.todoist.com/api/v1/#tag/Authorization/OAuth',
  tokenResponse: {
    basis: 'printed',
    body: { access_token: 'fake-todoist-access-token', token_type: 'Bearer' },
    expect: { accessToken: 'fake-todoist-access-token' },
  },
}
