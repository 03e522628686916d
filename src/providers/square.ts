/**
 * @module providers/square
 * Square OAuth API (code flow) for a seller account, in production or the Square Sandbox.
 * @see https://developer.squareup.com/docs/oauth-api/overview
 * @see https://developer.squareup.com/reference/square/o-auth-api/authorize
 * @see https://developer.squareup.com/reference/square/o-auth/obtain-token
 * @see https://developer.squareup.com/reference/square/objects/ObtainTokenResponse
 * @see https://developer.squareup.com/docs/oauth-api/refresh-revoke-limit-scope
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{squareHost}/oauth2/authorize'
const tokenEndpoint = 'https://{squareHost}/oauth2/token'
const userInfoEndpoint = 'https://{squareHost}/v2/merchants/me'

export const square = defineProvider({
  id: 'square',
  displayName: 'Square',
  docsUrl: [
    'https://developer.squareup.com/docs/oauth-api/overview',
    'https://developer.squareup.com/reference/square/o-auth/obtain-token',
    'https://developer.squareup.com/docs/oauth-api/refresh-revoke-limit-scope',
  ],
  apiBaseUrls: ['https://{squareHost}/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocationEndpoint: RevokeToken needs `Authorization: Client <application secret>` and a
  // JSON body with client_id + access_token, which the revocation options cannot express.
  // RetrieveMerchant with "me" returns the seller the token belongs to (MERCHANT_PROFILE_READ).
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.merchant.id', accountLabel: '$.merchant.business_name' },
  settings: {
    squareHost: {
      description: 'connect.squareup.com for production, connect.squareupsandbox.com for the Square Sandbox',
      example: 'connect.squareupsandbox.com',
      pattern: '^connect\\.squareup(sandbox)?\\.com$',
      default: 'connect.squareup.com',
    },
  },
  // `scope` is "a space-separated list of the permissions" (MERCHANT_PROFILE_READ PAYMENTS_READ).
  scopeDelimiter: ' ',
  defaultScopes: ['MERCHANT_PROFILE_READ'],
  // Square's PKCE flow is for public clients without the secret and changes the refresh token
  // rules (single-use, 90 days); this definition uses the code flow with the application secret.
  pkce: 'unsupported',
  tokenEndpointAuthMethod: 'client_secret_post',
  // ObtainToken is a Square API endpoint that takes a JSON body.
  tokenRequestContentType: 'json',
  authorizationParams: {
    // "If false, the user must log in to their Square account", so they pick the intended seller.
    session: 'false',
  },
  // The response has `expires_at` (ISO 8601), not `expires_in`: access tokens expire in 30 days.
  tokenResponse: { map: { expires_at: '$.expires_at' }, keep: { merchant_id: '$.merchant_id' } },
  // Code flow: "the refresh token is multi-use and never expires" and refreshing returns it unchanged.
  refreshTokens: 'static',
  returnsGrantedScopes: false,
  notes:
    'Square recommends renewing access tokens every 7 days or less, well before the 30-day expiry; a ' +
    '`short_lived: true` token request gives 24 h tokens instead. To revoke, call POST /oauth2/revoke with ' +
    '`Authorization: Client <application secret>` outside the broker. `merchant_id` from the token response is ' +
    'also available as `user_info.merchant.id`.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * The printed `expires_at` (30 days ahead) is replaced by a far-future date, so the example stays valid.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.squareup.com/reference/square/oauth-api/obtain-token',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'EAAAfake-square-access-token',
      token_type: 'bearer',
      expires_at: '2099-01-01T00:00:00Z',
      merchant_id: 'FAKEMERCHANT',
      refresh_token: 'EQAAfake-square-refresh-token',
      short_lived: false,
    },
    expect: {
      accessToken: 'EAAAfake-square-access-token',
      refreshToken: 'EQAAfake-square-refresh-token',
      expiresIn: 'from expires_at',
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'EAAAfake-square-access-token-2',
      token_type: 'bearer',
      expires_at: '2099-02-01T00:00:00Z',
      merchant_id: 'FAKEMERCHANT',
      refresh_token: 'EQAAfake-square-refresh-token',
      short_lived: false,
    },
    expect: {
      accessToken: 'EAAAfake-square-access-token-2',
      refreshToken: 'EQAAfake-square-refresh-token',
      expiresIn: 'from expires_at',
    },
  },
}
