/**
 * @module providers/amazon
 * Login with Amazon (LWA) authorization code grant for websites.
 * @see https://developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html
 * @see https://developer.amazon.com/docs/login-with-amazon/obtain-customer-profile.html
 * @see https://developer.amazon.com/docs/login-with-amazon/customer-profile.html
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://www.amazon.com/ap/oa'
const tokenEndpoint = 'https://api.amazon.com/auth/o2/token'
const userInfoEndpoint = 'https://api.amazon.com/user/profile'

export const amazon = defineProvider({
  id: 'amazon',
  displayName: 'Amazon (Login with Amazon)',
  docsUrl: [
    'https://developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html',
    'https://developer.amazon.com/docs/login-with-amazon/obtain-customer-profile.html',
  ],
  apiBaseUrls: ['https://api.amazon.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // LWA documents no token revocation endpoint; customers remove apps from their Amazon account.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user_id', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  // `profile` gives user_id, name and email; `profile:user_id` alone is the narrowest.
  defaultScopes: ['profile'],
  // PKCE appears only in the LWA mobile/device SDKs; the website code grant page does not list it.
  pkce: 'unsupported',
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last one hour. The docs only say a refresh returns "a new access token and
  // refresh token"; treat it as rotating to be safe (the core keeps whichever it gets).
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'The North America endpoints are used; Europe uses https://api.amazon.co.uk/auth/o2/token and Far East ' +
    'https://api.amazon.co.jp/auth/o2/token (define a custom provider for those regions).',
})

/**
 * The token and refresh answers, with fake values, compared with the bodies Amazon prints: the Login
 * with Amazon "Authorization Code Grant" page's access token response (`source`) and the Selling Partner
 * API's "Connecting to the Selling Partner API" Step 1, whose LWA refresh_token-grant response is
 * `{"access_token":"Atza|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSREXAMPLE","token_type":"bearer",
 * "expires_in":3600,"refresh_token":"Atzr|IQEBLzAtAhRPpMJxdwVz2Nn6f2y-tpJX2DeXEXAMPLE"}` (copied
 * verbatim into several public SP-API clients). No `scope`. That page describes the returned
 * `refresh_token` as "the LWA refresh token that you submitted in the request", so the refresh example
 * hands the same one back; `refreshTokens: 'rotating'` stays, as the core keeps whichever it gets.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'Atza|fake-amazon-access-token',
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: 'Atzr|fake-amazon-refresh-token',
    },
    expect: {
      accessToken: 'Atza|fake-amazon-access-token',
      refreshToken: 'Atzr|fake-amazon-refresh-token',
      expiresIn: 3600,
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'Atza|fake-amazon-access-token-2',
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: 'Atzr|fake-amazon-refresh-token',
    },
    expect: {
      accessToken: 'Atza|fake-amazon-access-token-2',
      refreshToken: 'Atzr|fake-amazon-refresh-token',
      expiresIn: 3600,
    },
  },
}
