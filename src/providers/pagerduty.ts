/**
 * @module providers/pagerduty
 * PagerDuty user OAuth (Scoped OAuth or Classic User OAuth apps) through identity.pagerduty.com.
 * @see https://github.com/PagerDuty/developer-docs/blob/main/docs/app-integration-development/09-Act-as-User-OAuth-Code-Grant.md
 * @see https://github.com/PagerDuty/developer-docs/blob/main/docs/app-integration-development/10-Act-as-User-OAuth-PKCE.md
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://identity.pagerduty.com/oauth/authorize'
const tokenEndpoint = 'https://identity.pagerduty.com/oauth/token'
const userInfoEndpoint = 'https://api.pagerduty.com/users/me'

export const pagerduty = defineProvider({
  id: 'pagerduty',
  displayName: 'PagerDuty',
  docsUrl: [
    'https://github.com/PagerDuty/developer-docs/blob/main/docs/app-integration-development/09-Act-as-User-OAuth-Code-Grant.md',
    'https://github.com/PagerDuty/developer-docs/blob/main/docs/app-integration-development/10-Act-as-User-OAuth-PKCE.md',
  ],
  apiBaseUrls: ['https://api.pagerduty.com'],
  authorizationEndpoint,
  tokenEndpoint,
  userInfo: {
    endpoint: userInfoEndpoint,
    // REST API v2 calls must name the version in Accept.
    headers: { accept: 'application/vnd.pagerduty+json;version=2' },
    accountId: '$.user.id',
    accountLabel: '$.user.email',
  },
  // Classic apps: `read` or `write`; Scoped OAuth apps: a space-separated subset of the app's scopes.
  scopeDelimiter: ' ',
  defaultScopes: ['read'],
  // A PKCE variant of the same flow is documented.
  pkce: 'supported',
  // client_id and client_secret go in the form-encoded body.
  tokenEndpointAuthMethod: 'client_secret_post',
  tokenResponse: {
    // The ID token names the account subdomain and service region, needed to address the account.
    keep: { subdomain: "jwt_decode($.id_token, '$.subdomain')", region: "jwt_decode($.id_token, '$.region')" },
  },
  // "A successful response will include a new access token and a new refresh token."
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Authorization codes live 30 seconds. Access tokens last 30 days, refresh tokens 210 days, within a rolling ' +
    '3-year window. An invalid scope is not an error: the grant silently gets only `openid`. For Scoped OAuth ' +
    'apps request e.g. `users.read` instead of `read`. No revocation endpoint is documented.',
})

/**
 * The code-exchange and refresh answers as "Act as User Tokens via Code Grant" prints them
 * (PagerDuty/developer-docs), with fake values: `client_info`, `id_token` (code exchange only), `token_type`
 * bearer, `access_token` and a new `refresh_token` (`pdus+_`), `scope` space-separated, `expires_in` 864000
 * (the page prints 10 days although its text says access tokens now live 30 days).
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://github.com/PagerDuty/developer-docs/blob/main/docs/app-integration-development/09-Act-as-User-OAuth-Code-Grant.md',
  tokenResponse: {
    basis: 'printed',
    body: {
      client_info: 'prefix_legacy_app',
      access_token: 'fake-pagerduty-access-token',
      expires_in: 864000,
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWJkb21haW4iOiJhY21lIiwicmVnaW9uIjoiVW5pdGVkU3RhdGVzIn0.fake-signature',
      refresh_token: 'fake-pagerduty-refresh-token',
      scope: 'openid write',
      token_type: 'bearer',
    },
    expect: {
      accessToken: 'fake-pagerduty-access-token',
      refreshToken: 'fake-pagerduty-refresh-token',
      expiresIn: 864000,
      scope: ['openid', 'write'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-pagerduty-access-token-2',
      expires_in: 864000,
      refresh_token: 'fake-pagerduty-refresh-token-2',
      scope: 'openid write',
      token_type: 'bearer',
    },
    expect: {
      accessToken: 'fake-pagerduty-access-token-2',
      refreshToken: 'fake-pagerduty-refresh-token-2',
      expiresIn: 864000,
      scope: ['openid', 'write'],
    },
  },
}
