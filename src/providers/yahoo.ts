/**
 * @module providers/yahoo
 * Yahoo OAuth 2.0 authorization code flow with OpenID Connect.
 * @see https://developer.yahoo.com/oauth2/guide/flows_authcode/
 * @see https://developer.yahoo.com/oauth2/guide/openid_connect/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://api.login.yahoo.com/oauth2/request_auth'
const tokenEndpoint = 'https://api.login.yahoo.com/oauth2/get_token'
const userInfoEndpoint = 'https://api.login.yahoo.com/openid/v1/userinfo'

export const yahoo = defineProvider({
  id: 'yahoo',
  displayName: 'Yahoo',
  docsUrl: ['https://developer.yahoo.com/oauth2/guide/flows_authcode/', 'https://developer.yahoo.com/oauth2/guide/openid_connect/'],
  apiBaseUrls: ['https://api.login.yahoo.com/openid/v1', 'https://fantasysports.yahooapis.com/fantasy/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocation endpoint is documented; users remove app access in their Yahoo account settings.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  defaultScopes: ['openid', 'email', 'profile'],
  // Not documented for the authorization code flow.
  pkce: 'unsupported',
  // The guide sends `Authorization: Basic base64(client_id:client_secret)` to get_token.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Access tokens last one hour; the refresh token is long-lived and is sent again as is.
  refreshTokens: 'static',
  returnsGrantedScopes: false,
  notes:
    'The token response carries `xoauth_yahoo_guid` (the user GUID) and, with `openid`, an `id_token`. ' +
    'API scopes (e.g. `fspt-r` for Fantasy Sports) are chosen when the app is registered.',
})

/**
 * The token and refresh answers, with fake values, compared with the "Sample Response" bodies Yahoo's
 * "OAuth 2.0 Authorization Code Flow" guide prints for Step 4 and Step 5 (`source`; the same sample,
 * `"access_token":"Jzxbkqqcvjqik2IMxGFEE1cuaos--"`, is copied into several public SDKs): `access_token`,
 * `token_type: "bearer"`, `expires_in: 3600`, `refresh_token`, `xoauth_yahoo_guid` (deprecated), no
 * `scope`. The refresh sample prints the same refresh token again.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.yahoo.com/oauth2/guide/flows_authcode/',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-yahoo-access-token',
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: 'fake-yahoo-refresh-token',
      xoauth_yahoo_guid: 'FAKEGUID',
    },
    expect: { accessToken: 'fake-yahoo-access-token', refreshToken: 'fake-yahoo-refresh-token', expiresIn: 3600 },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-yahoo-access-token-2',
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: 'fake-yahoo-refresh-token',
      xoauth_yahoo_guid: 'FAKEGUID',
    },
    expect: { accessToken: 'fake-yahoo-access-token-2', refreshToken: 'fake-yahoo-refresh-token', expiresIn: 3600 },
  },
}
