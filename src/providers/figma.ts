/**
 * @module providers/figma
 * Figma REST API OAuth apps (authorization code grant).
 * @see https://developers.figma.com/docs/rest-api/oauth-apps/
 * @see https://developers.figma.com/docs/rest-api/authentication
 * @see https://developers.figma.com/docs/rest-api/scopes/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://www.figma.com/oauth'
// Replaced https://www.figma.com/api/oauth/token, which was sunset in February 2025.
const tokenEndpoint = 'https://api.figma.com/v1/oauth/token'
const refreshEndpoint = 'https://api.figma.com/v1/oauth/refresh'
const userInfoEndpoint = 'https://api.figma.com/v1/me'

export const figma = defineProvider({
  id: 'figma',
  displayName: 'Figma',
  docsUrl: [
    'https://developers.figma.com/docs/rest-api/oauth-apps/',
    'https://developers.figma.com/docs/rest-api/authentication',
    'https://developers.figma.com/docs/rest-api/scopes/',
  ],
  apiBaseUrls: ['https://api.figma.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // Refreshes go to their own endpoint.
  refreshEndpoint,
  // GET /v1/me needs `current_user:read`.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  defaultScopes: ['current_user:read'],
  // Not found in Figma's OAuth documentation (other catalogs enable S256); conservative choice.
  pkce: 'unsupported',
  // The token and refresh endpoints take client_id:client_secret as HTTP Basic.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // The refresh response has only a new access token: the refresh token stays the same.
  refreshTokens: 'static',
  returnsGrantedScopes: false,
  notes:
    'Authorization codes expire after 30 seconds; access tokens last 90 days. Figma keeps one access token per ' +
    'app and user, so a refresh invalidates the previous access token. OAuth must run in a browser, not an ' +
    'embedded webview. Scope lists are also seen comma-separated in examples; the space delimiter follows ' +
    'RFC 6749. `projects:read` is only available to private apps. No revocation endpoint is documented.',
})

/**
 * The token and refresh answers, with fake values, compared with the structures Figma's OAuth page prints
 * (a public copy of the older www.figma.com/developers/api#oauth2 text, with placeholders): the token
 * answer has `user_id_string`, `access_token`, `token_type: "bearer"`, `expires_in` (seconds) and
 * `refresh_token`, and "may also contain a numeric user_id property" (deprecated); the refresh answer
 * has only `access_token`, `token_type` and `expires_in` (no new refresh token, hence `static`). No
 * `scope` in either. That copy still sends refreshes to /v1/oauth/token; the current page names
 * /v1/oauth/refresh, which the definition uses.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.figma.com/docs/rest-api/oauth-apps/',
  tokenResponse: {
    basis: 'printed',
    body: {
      user_id_string: '12345',
      user_id: 12345,
      access_token: 'fake-figma-access-token',
      token_type: 'bearer',
      refresh_token: 'fake-figma-refresh-token',
      expires_in: 7776000,
    },
    expect: { accessToken: 'fake-figma-access-token', refreshToken: 'fake-figma-refresh-token', expiresIn: 7776000 },
  },
  refreshResponse: {
    basis: 'printed',
    body: { access_token: 'fake-figma-access-token-2', token_type: 'bearer', expires_in: 7776000 },
    expect: { accessToken: 'fake-figma-access-token-2', expiresIn: 7776000 },
  },
}
