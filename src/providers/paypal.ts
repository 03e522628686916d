/**
 * @module providers/paypal
 * Log in with PayPal (Identity API, OAuth 2.0 + OpenID Connect), live or sandbox.
 * @see https://developer.paypal.com/docs/log-in-with-paypal/integrate/
 * @see https://developer.paypal.com/log-in/build-button
 * @see https://developer.paypal.com/log-in/references
 * @see https://developer.paypal.com/api/identity/v1/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

// `paypalDomain` is `paypal.com` (live) or `sandbox.paypal.com`: it yields www.sandbox.paypal.com
// for the consent page and api-m.sandbox.paypal.com for the API, as in the docs.
const authorizationEndpoint = 'https://www.{paypalDomain}/signin/authorize'
const tokenEndpoint = 'https://api-m.{paypalDomain}/v1/oauth2/token'
const userInfoEndpoint = 'https://api-m.{paypalDomain}/v1/identity/oauth2/userinfo?schema=paypalv1.1'

export const paypal = defineProvider({
  id: 'paypal',
  displayName: 'PayPal',
  docsUrl: ['https://developer.paypal.com/docs/log-in-with-paypal/integrate/', 'https://developer.paypal.com/log-in/build-button'],
  apiBaseUrls: ['https://api-m.{paypalDomain}'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocation endpoint is documented for Log in with PayPal tokens.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user_id', accountLabel: '$.emails[0].value' },
  settings: {
    paypalDomain: {
      description: 'PayPal environment: `paypal.com` for live, `sandbox.paypal.com` for the sandbox',
      example: 'sandbox.paypal.com',
      pattern: '^(sandbox\\.)?paypal\\.com$',
      default: 'paypal.com',
    },
  },
  scopeDelimiter: ' ',
  // `openid` is the basic-authentication scope; `email` adds the address. Scopes must also be
  // ticked under the app's "Log in with PayPal" advanced settings.
  defaultScopes: ['openid', 'email'],
  pkce: 'unsupported',
  // The code exchange is sent with `Authorization: Basic base64(client_id:secret)`.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // The documented authorization URL template includes flowEntry=static.
  authorizationParams: { flowEntry: 'static' },
  // Access tokens are short-lived; the refresh token is reused with grant_type=refresh_token.
  refreshTokens: 'static',
  returnsGrantedScopes: true,
  notes:
    '`user_id` is a URL-like stable identifier (https://www.paypal.com/webapps/auth/identity/user/...). ' +
    'Revocation is not documented for this flow (the REST /v1/oauth2/token/terminate endpoint is only seen in ' +
    'SDKs and Postman collections), so none is configured.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.paypal.com/docs/log-in-with-paypal/integrate/',
  tokenResponse: {
    basis: 'unverified',
    body: {
      token_type: 'Bearer',
      expires_in: 28800,
      refresh_token: 'fake-paypal-refresh-token',
      access_token: 'fake-paypal-access-token',
      scope: 'openid https://uri.paypal.com/services/paypalattributes',
      nonce: 'fake-nonce',
    },
    expect: {
      accessToken: 'fake-paypal-access-token',
      refreshToken: 'fake-paypal-refresh-token',
      expiresIn: 28800,
      scope: ['openid', 'https://uri.paypal.com/services/paypalattributes'],
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      token_type: 'Bearer',
      expires_in: 28800,
      access_token: 'fake-paypal-access-token-2',
      scope: 'openid https://uri.paypal.com/services/paypalattributes',
      nonce: 'fake-nonce',
    },
    expect: {
      accessToken: 'fake-paypal-access-token-2',
      expiresIn: 28800,
      scope: ['openid', 'https://uri.paypal.com/services/paypalattributes'],
    },
  },
}
