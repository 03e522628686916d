/**
 * @module providers/zoho
 * Zoho Accounts OAuth 2.0 for server-based apps (one data center per installation).
 * @see https://www.zoho.com/accounts/protocol/oauth/web-apps/protocol-flow.html
 * @see https://www.zoho.com/accounts/protocol/oauth/use-access-token.html
 * @see https://www.zoho.com/accounts/protocol/oauth/sign-in-using-zoho.html
 * @see https://www.zoho.com/thrive/resources/api/identify-user-location.html
 * @see https://www.zoho.com/thrive/resources/api/oauth-step5.html
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{accountsDomain}/oauth/v2/auth'
const tokenEndpoint = 'https://{accountsDomain}/oauth/v2/token'
const revocationEndpoint = 'https://{accountsDomain}/oauth/v2/token/revoke'
const userInfoEndpoint = 'https://{accountsDomain}/oauth/user/info'

export const zoho = defineProvider({
  id: 'zoho',
  displayName: 'Zoho',
  docsUrl: [
    'https://www.zoho.com/accounts/protocol/oauth/web-apps/protocol-flow.html',
    'https://www.zoho.com/accounts/protocol/oauth/use-access-token.html',
    'https://www.zoho.com/thrive/resources/api/identify-user-location.html',
  ],
  authorizationEndpoint,
  tokenEndpoint,
  // POST …/oauth/v2/token/revoke revokes a refresh token. The docs put `token` in the query string;
  // the core sends it as a form field of the POST.
  revocationEndpoint,
  // Works with `Authorization: Bearer` as well as `Zoho-oauthtoken`; needs AaaServer.profile.READ.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.ZUID', accountLabel: '$.Email' },
  settings: {
    accountsDomain: {
      description:
        'Zoho Accounts host of the data center the users are in: accounts.zoho.com (US), accounts.zoho.eu, ' +
        'accounts.zoho.in, accounts.zoho.com.au, accounts.zoho.jp, accounts.zohocloud.ca, accounts.zoho.com.cn',
      example: 'accounts.zoho.eu',
      pattern: '^accounts\\.zoho(cloud)?\\.[a-z]{2,3}(\\.[a-z]{2})?$',
      default: 'accounts.zoho.com',
    },
  },
  // "Multiple scopes can be given which has to be separated by commas" (ZohoCRM.modules.ALL,…).
  scopeDelimiter: ',',
  defaultScopes: ['AaaServer.profile.READ'],
  pkce: 'unsupported',
  // client_id and client_secret are body parameters of POST /oauth/v2/token.
  tokenEndpointAuthMethod: 'client_secret_post',
  authorizationParams: {
    // Without access_type=offline Zoho issues no refresh token.
    access_type: 'offline',
    // A refresh token is only returned on the first consent unless consent is forced again.
    prompt: 'consent',
  },
  // Access tokens last 1 hour; refresh tokens do not expire until revoked, but a user holds at
  // most 20 and creating the 21st deletes the oldest.
  refreshTokens: 'static',
  // Product APIs are called on the data center's API host, returned with the token.
  tokenResponse: { keep: { api_domain: '$.api_domain' } },
  // The proxy's base: that domain, one per data centre (https://www.zohoapis.eu, …).
  connectionApiBase: {
    userInfo: 'api_domain',
    hosts: [
      'www.zohoapis.com',
      'www.zohoapis.eu',
      'www.zohoapis.in',
      'www.zohoapis.com.au',
      'www.zohoapis.jp',
      'www.zohoapis.ca',
      'www.zohoapis.sa',
      'www.zohoapis.com.cn',
    ],
  },
  returnsGrantedScopes: true,
  notes:
    'Product APIs are called on the `api_domain` returned with the token (kept as `user_info.api_domain`). With "Multi DC" enabled on the client, the callback carries `accounts-server` and the ' +
    'token must be exchanged on that host: configure one Zoho provider per data center instead. Zoho also limits ' +
    'refresh-token creation to five per minute.',
})

/**
 * The token answer as its documentation prints it, with fake values. The refresh answer too.
 * Zoho states no `scope` in either answer.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-zoho-access-token',
      refresh_token: 'fake-zoho-refresh-token',
      api_domain: 'https://www.zohoapis.com',
      token_type: 'Bearer',
      expires_in: 3600,
    },
    expect: { accessToken: 'fake-zoho-access-token', refreshToken: 'fake-zoho-refresh-token', expiresIn: 3600 },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-zoho-access-token-2',
      expires_in: 3600,
      api_domain: 'https://www.zohoapis.com',
      token_type: 'Bearer',
    },
    expect: { accessToken: 'fake-zoho-access-token-2', expiresIn: 3600 },
  },
}
