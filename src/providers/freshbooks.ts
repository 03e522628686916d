/**
 * @module providers/freshbooks
 * FreshBooks API OAuth2 authorization code flow.
 * @see https://www.freshbooks.com/api/authentication
 */
import { defineProvider } from './define-provider.js'

const authorizationEndpoint = 'https://auth.freshbooks.com/oauth/authorize/'
const tokenEndpoint = 'https://api.freshbooks.com/auth/oauth/token'
const revocationEndpoint = 'https://api.freshbooks.com/auth/oauth/revoke'
// "Identity info": the user, with business memberships (account ids) under `response`.
const userInfoEndpoint = 'https://api.freshbooks.com/auth/api/v1/users/me'

export const freshbooks = defineProvider({
  id: 'freshbooks',
  displayName: 'FreshBooks',
  docsUrl: 'https://www.freshbooks.com/api/authentication',
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
