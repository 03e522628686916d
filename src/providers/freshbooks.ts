/**
 * @module providers/freshbooks
 * FreshBooks API OAuth2 authorization code flow.
 * @see https://www.freshbooks.com/api/authentication
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://auth.freshbooks.com/oauth/authorize/'
const tokenEndpoint = 'https://api.freshbooks.com/auth/oauth/token'
const revocationEndpoint = 'https://api.freshbooks.com/auth/oauth/revoke'
// "Identity info": the user, with business memberships (account ids) under `response`.
const userInfoEndpoint = 'https://api.freshbooks.com/auth/api/v1/users/me'

export const freshbooks = defineProvider({
  id: 'freshbooks',
  displayName: 'FreshBooks',
  docsUrl: 'https://www.freshbooks.com/api/authentication',
  apiBaseUrls: ['https://api.freshbooks.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // POST /auth/oauth/revoke with client_id, client_secret and the token (RFC 7009 style).
  revocationEndpoint,
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.response.id', accountLabel: '$.response.email' },
  // Scopes such as `user:profile:read user:invoices:read`, space-separated.
  scopeDelimiter: ' ',
  defaultScopes: ['user:profile:read'],
  pkce: 'unsupported',
  // client_id and client_secret travel in the request body.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last 12 hours; each refresh token is single-use and replaced on refresh.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'The documented examples send the token request as a JSON body; the form body the core sends is the ' +
    'OAuth-standard encoding. Switch `tokenRequestContentType` to json if FreshBooks rejects it. Accounting ' +
    'calls need an `account_id` and project/time calls a `business_id`, both from /users/me business memberships.',
})

/**
 * The token answer built from the fields its documentation names (it prints no example), as
 * remembered, with fake values: unverified, not yet checked against `source`. The provider documents no separate refresh answer.
 * Built from the fields FreshBooks documents for its token answer (12 h access tokens, single-use refresh tokens).
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://www.freshbooks.com/api/authentication',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-freshbooks-access-token',
      token_type: 'Bearer',
      expires_in: 43200,
      refresh_token: 'fake-freshbooks-refresh-token',
      scope: 'user:profile:read',
      created_at: 1587757587,
    },
    expect: {
      accessToken: 'fake-freshbooks-access-token',
      refreshToken: 'fake-freshbooks-refresh-token',
      expiresIn: 43200,
      scope: ['user:profile:read'],
    },
  },
}
