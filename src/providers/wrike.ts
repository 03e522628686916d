/**
 * @module providers/wrike
 * Wrike API v4 OAuth 2.0 authorization code flow.
 * @see https://developers.wrike.com/oauth-20-authorization
 * @see https://developers.wrike.com/overview
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://login.wrike.com/oauth2/authorize/v4'
const tokenEndpoint = 'https://login.wrike.com/oauth2/token'
// The API host depends on the account's data center (token response field `host`).
const userInfoEndpoint = 'https://{apiHost}/api/v4/contacts?me=true'

export const wrike = defineProvider({
  id: 'wrike',
  displayName: 'Wrike',
  docsUrl: ['https://developers.wrike.com/oauth-20-authorization', 'https://developers.wrike.com/overview'],
  apiBaseUrls: ['https://{apiHost}/api/v4'],
  authorizationEndpoint,
  tokenEndpoint,
  // No token revocation endpoint is documented; users revoke apps in their Wrike settings.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.data[0].id', accountLabel: '$.data[0].profiles[0].email' },
  settings: {
    apiHost: {
      description: 'Wrike API host of the accounts served: `www.wrike.com` (US) or `app-eu.wrike.com` (EU data center)',
      example: 'app-eu.wrike.com',
      pattern: '^[a-z0-9-]{1,63}\\.wrike\\.com$',
      default: 'www.wrike.com',
    },
  },
  // The authorize request takes a comma-separated scope list (e.g. wsReadOnly,amReadOnlyUser);
  // without one Wrike grants `Default`.
  scopeDelimiter: ',',
  defaultScopes: ['Default'],
  pkce: 'unsupported',
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last one hour; refresh returns a new refresh token, and Wrike rotates it on use.
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'The token response carries `host` (www.wrike.com or app-eu.wrike.com): API calls for that user must go to ' +
    'https://<host>/api/v4. The `apiHost` setting only picks the host used for the account lookup.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.wrike.com/oauth-20-authorization',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-wrike-access-token',
      refresh_token: 'fake-wrike-refresh-token',
      token_type: 'bearer',
      host: 'www.wrike.com',
      expires_in: 3600,
    },
    expect: { accessToken: 'fake-wrike-access-token', refreshToken: 'fake-wrike-refresh-token', expiresIn: 3600 },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-wrike-access-token-2',
      refresh_token: 'fake-wrike-refresh-token-2',
      token_type: 'bearer',
      host: 'www.wrike.com',
      expires_in: 3600,
    },
    expect: { accessToken: 'fake-wrike-access-token-2', refreshToken: 'fake-wrike-refresh-token-2', expiresIn: 3600 },
  },
}
