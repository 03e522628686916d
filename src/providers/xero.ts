/**
 * @module providers/xero
 * Xero OAuth 2.0 standard authorization code flow (web apps with a client secret) and OpenID Connect.
 * @see https://developer.xero.com/documentation/guides/oauth2/auth-flow/
 * @see https://developer.xero.com/documentation/oauth2/pkce-flow
 * @see https://developer.xero.com/faq/oauth2
 * @see https://identity.xero.com/.well-known/openid-configuration
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://login.xero.com/identity/connect/authorize'
const tokenEndpoint = 'https://identity.xero.com/connect/token'
const revocationEndpoint = 'https://identity.xero.com/connect/revocation'
const userInfoEndpoint = 'https://identity.xero.com/connect/userinfo'

export const xero = defineProvider({
  id: 'xero',
  displayName: 'Xero',
  docsUrl: [
    'https://developer.xero.com/documentation/guides/oauth2/auth-flow/',
    'https://developer.xero.com/faq/oauth2',
    'https://identity.xero.com/.well-known/openid-configuration',
  ],
  apiBaseUrls: ['https://api.xero.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // RFC 7009: POST `token=<refresh token>` with HTTP Basic; revoking the refresh token removes
  // every tenant connection of this grant.
  revocationEndpoint,
  // OpenID Connect UserInfo (`openid profile email`); `sub` is the Xero user's identity id.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  // `offline_access` is what makes Xero issue a refresh token; the OIDC scopes feed UserInfo.
  defaultScopes: ['openid', 'profile', 'email', 'offline_access'],
  // PKCE is documented for the separate "Auth Code with PKCE" app type (no client secret).
  pkce: 'unsupported',
  // "Authorization: Basic base64(client_id:client_secret)" on the token endpoint.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Access tokens last 30 minutes. Each refresh returns a new refresh token that replaces the old
  // one (the old one stays usable for a 30-minute grace period); unused refresh tokens expire
  // after 60 days.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'API calls also need the `xero-tenant-id` header: list the organisations the user connected with GET ' +
    'https://api.xero.com/connections (the core does not call it). One grant can cover several organisations. ' +
    'Add the API scopes the app needs (e.g. accounting scopes) to the default identity set.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow/',
  tokenResponse: {
    basis: 'unverified',
    body: {
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.fake-signature',
      access_token: 'fake-xero-access-token',
      expires_in: 1800,
      token_type: 'Bearer',
      refresh_token: 'fake-xero-refresh-token',
      scope: 'openid profile email accounting.transactions offline_access',
    },
    expect: {
      accessToken: 'fake-xero-access-token',
      refreshToken: 'fake-xero-refresh-token',
      expiresIn: 1800,
      scope: ['openid', 'profile', 'email', 'accounting.transactions', 'offline_access'],
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.fake-signature',
      access_token: 'fake-xero-access-token-2',
      expires_in: 1800,
      token_type: 'Bearer',
      refresh_token: 'fake-xero-refresh-token-2',
      scope: 'openid profile email accounting.transactions offline_access',
    },
    expect: {
      accessToken: 'fake-xero-access-token-2',
      refreshToken: 'fake-xero-refresh-token-2',
      expiresIn: 1800,
      scope: ['openid', 'profile', 'email', 'accounting.transactions', 'offline_access'],
    },
  },
}
