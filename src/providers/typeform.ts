/**
 * @module providers/typeform
 * Typeform OAuth 2.0 apps (Create, Responses and Webhooks APIs).
 * @see https://www.typeform.com/developers/get-started/applications/
 * @see https://www.typeform.com/developers/get-started/scopes/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{apiHost}/oauth/authorize'
const tokenEndpoint = 'https://{apiHost}/oauth/token'
const userInfoEndpoint = 'https://{apiHost}/me'

export const typeform = defineProvider({
  id: 'typeform',
  displayName: 'Typeform',
  docsUrl: ['https://www.typeform.com/developers/get-started/applications/', 'https://www.typeform.com/developers/get-started/scopes/'],
  apiBaseUrls: ['https://{apiHost}'],
  authorizationEndpoint,
  tokenEndpoint,
  // No OAuth revocation endpoint is documented.
  // GET /me needs `accounts:read`.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user_id', accountLabel: '$.email' },
  settings: {
    apiHost: {
      description: 'api.typeform.com, or api.typeform.eu for accounts in the EU data center (separate OAuth apps)',
      example: 'api.typeform.eu',
      pattern: '^api\\.typeform\\.(com|eu)$',
      default: 'api.typeform.com',
    },
  },
  // Scopes are joined with `+` in the documented authorize link, i.e. space-separated.
  scopeDelimiter: ' ',
  // "Always add the offline scope to receive a refresh token."
  defaultScopes: ['accounts:read', 'offline'],
  pkce: 'unsupported',
  // The token request posts client_id and client_secret with the code.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens expire (`expires_in` is returned). Whether a refresh returns a new refresh token
  // is not stated in the docs: treated as rotating, which is safe either way.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Without the `offline` scope Typeform issues no refresh token and the connection must be re-authorized when ' +
    'the access token expires. The client secret is shown only once when the app is registered.',
})

/**
 * The token answer built from the fields its documentation names (it prints no example), as
 * remembered, with fake values: unverified, not yet checked against `source`. The provider documents no separate refresh answer.
 * Built from the fields Typeform documents (one-week tokens; a refresh token with the `offline` scope).
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://www.typeform.com/developers/get-started/applications/',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-typeform-access-token',
      token_type: 'bearer',
      expires_in: 604800,
      refresh_token: 'fake-typeform-refresh-token',
      scope: 'forms:read accounts:read offline',
    },
    expect: {
      accessToken: 'fake-typeform-access-token',
      refreshToken: 'fake-typeform-refresh-token',
      expiresIn: 604800,
      scope: ['forms:read', 'accounts:read', 'offline'],
    },
  },
}
