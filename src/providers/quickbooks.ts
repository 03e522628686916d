/**
 * @module providers/quickbooks
 * Intuit OAuth 2.0 for QuickBooks Online (Accounting / Payments) with OpenID Connect.
 * @see https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
 * @see https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq
 * @see https://developer.api.intuit.com/.well-known/openid_configuration
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://appcenter.intuit.com/connect/oauth2'
const tokenEndpoint = 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'
const revocationEndpoint = 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke'
const userInfoEndpoint = 'https://{accountsHost}/v1/openid_connect/userinfo'

export const quickbooks = defineProvider({
  id: 'quickbooks',
  displayName: 'QuickBooks Online (Intuit)',
  docsUrl: [
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq',
    'https://developer.api.intuit.com/.well-known/openid_configuration',
  ],
  apiBaseUrls: ['https://quickbooks.api.intuit.com', 'https://sandbox-quickbooks.api.intuit.com'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // The revoke endpoint takes `{"token": …}` as JSON, with HTTP Basic client authentication.
  revocation: { body: 'json', clientAuth: 'client_secret_basic' },
  // OpenID Connect UserInfo (needs `openid` plus `email`/`profile`).
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  settings: {
    accountsHost: {
      description:
        'Intuit accounts host for UserInfo: accounts.platform.intuit.com, or sandbox-accounts.platform.intuit.com for development keys',
      example: 'sandbox-accounts.platform.intuit.com',
      pattern: '^(sandbox-)?accounts\\.platform\\.intuit\\.com$',
      default: 'accounts.platform.intuit.com',
    },
  },
  scopeDelimiter: ' ',
  // Identity only; QuickBooks data needs `com.intuit.quickbooks.accounting` (or `.payment`).
  defaultScopes: ['openid', 'email'],
  pkce: 'unsupported',
  // The token endpoint expects `Authorization: Basic base64(client_id:client_secret)`.
  tokenEndpointAuthMethod: 'client_secret_basic',
  tokenRequestHeaders: { accept: 'application/json' },
  // Access tokens last 1 hour. Refresh tokens last 100 days (`x_refresh_token_expires_in`) and the
  // value may change on any refresh (about every 24 h): always keep the latest one.
  tokenResponse: { map: { refresh_token_expires_in: '$.x_refresh_token_expires_in' } },
  // Every Accounting API call needs the company id, which arrives on the redirect only.
  keepCallbackParams: ['realmId'],
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'The company id (`realmId`) arrives as a query parameter on the redirect and is kept as `user_info.realmId`. ' +
    'OAuth endpoints are the same for sandbox ' +
    'and production; only the API base (sandbox-quickbooks.api.intuit.com) and UserInfo host differ. Intuit ' +
    'now also caps refresh tokens at five years from the original grant.',
})

/**
 * The code-exchange and refresh answers built from the fields Intuit documents, with fake values, as its own
 * SDK's README (intuit/oauth-jsclient, "A sample AuthResponse") prints the token: `token_type` bearer,
 * `access_token`, `refresh_token` (a new one on refresh), `expires_in` 3600, `x_refresh_token_expires_in`
 * 8726400 (read through this file's map) and `id_token` only with `openid`. No `scope`.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
  tokenResponse: {
    basis: 'fields',
    body: {
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: 'fake-quickbooks-refresh-token',
      x_refresh_token_expires_in: 8726400,
      access_token: 'fake-quickbooks-access-token',
    },
    expect: {
      accessToken: 'fake-quickbooks-access-token',
      refreshToken: 'fake-quickbooks-refresh-token',
      expiresIn: 3600,
      refreshTokenExpiresIn: 8726400,
    },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: 'fake-quickbooks-refresh-token-2',
      x_refresh_token_expires_in: 8726400,
      access_token: 'fake-quickbooks-access-token-2',
    },
    expect: {
      accessToken: 'fake-quickbooks-access-token-2',
      refreshToken: 'fake-quickbooks-refresh-token-2',
      expiresIn: 3600,
      refreshTokenExpiresIn: 8726400,
    },
  },
}
