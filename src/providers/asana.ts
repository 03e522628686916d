/**
 * @module providers/asana
 * Asana OAuth 2.0 authorization code grant, with OpenID Connect for the account identity.
 * @see https://developers.asana.com/docs/oauth
 * @see https://developers.asana.com/docs/openid-connect
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://app.asana.com/-/oauth_authorize'
const tokenEndpoint = 'https://app.asana.com/-/oauth_token'
const revocationEndpoint = 'https://app.asana.com/-/oauth_revoke'
const userInfoEndpoint = 'https://app.asana.com/api/1.0/openid_connect/userinfo'

export const asana = defineProvider({
  id: 'asana',
  displayName: 'Asana',
  docsUrl: ['https://developers.asana.com/docs/oauth', 'https://developers.asana.com/docs/openid-connect'],
  apiBaseUrls: ['https://app.asana.com/api/1.0'],
  authorizationEndpoint,
  tokenEndpoint,
  // "Token deauthorization": POST client_id, client_secret and the refresh token as `token`.
  revocationEndpoint,
  // The OIDC UserInfo endpoint needs the `openid` scope; `email` adds the address.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  // "A space-delimited set of one or more scopes"; without any, Asana assumes `default`.
  scopeDelimiter: ' ',
  defaultScopes: ['openid', 'email', 'profile'],
  // code_challenge / code_verifier are documented on both endpoints (S256).
  pkce: 'supported',
  // Parameters go in the form-encoded POST body, client_secret included.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last an hour; the refresh token is long-lived and is not replaced on refresh.
  refreshTokens: 'static',
  returnsGrantedScopes: false,
  notes:
    'Apps configured with "Full permissions" use the `default` scope for API access; apps with granular ' +
    'permission scopes (tasks:read, projects:read, …) must request them explicitly. The token response also ' +
    'carries `data` (id, name, email) of the authorizing user.',
})

/**
 * The code-exchange answer as Asana's OAuth page prints it (its sample `f6ds7fdsa69ags7ag9sd5a`, found in a
 * copy of the page's markdown), with fake values: `expires_in` 3600, `token_type` bearer, the user under
 * `data`, `refresh_token`, no `scope`. The refresh answer is built from the same page's field table for
 * the token exchange endpoint (which serves both grants): `access_token`, `expires_in`, `token_type`,
 * `data`, and `refresh_token` only "if exchanging a code" — so none on a refresh.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.asana.com/docs/oauth',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-asana-access-token',
      expires_in: 3600,
      token_type: 'bearer',
      data: { id: 4673218951, gid: '4673218951', name: 'Greg Sanchez', email: 'gsanchez@example.com' },
      refresh_token: 'fake-asana-refresh-token',
    },
    expect: { accessToken: 'fake-asana-access-token', refreshToken: 'fake-asana-refresh-token', expiresIn: 3600 },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-asana-access-token-2',
      expires_in: 3600,
      token_type: 'bearer',
      data: { id: 4673218951, gid: '4673218951', name: 'Greg Sanchez', email: 'gsanchez@example.com' },
    },
    expect: { accessToken: 'fake-asana-access-token-2', expiresIn: 3600 },
  },
}
