/**
 * @module providers/smartsheet
 * Smartsheet API 2.0 OAuth (3-legged authorization code flow).
 * @see https://developers.smartsheet.com/api/smartsheet/guides/advanced-topics/oauth
 * @see https://developers.smartsheet.com/api/smartsheet/openapi/tokens/tokens-getorrefresh
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

// `smartsheetDomain` selects the region: smartsheet.com, smartsheet.eu or smartsheetgov.com,
// each with its own app. and api. hosts (and separate app registrations and tokens).
const authorizationEndpoint = 'https://app.{smartsheetDomain}/b/authorize'
const tokenEndpoint = 'https://api.{smartsheetDomain}/2.0/token'
// "Revoke access token": DELETE /2.0/token, authenticated with the token itself.
const revocationEndpoint = 'https://api.{smartsheetDomain}/2.0/token'
const userInfoEndpoint = 'https://api.{smartsheetDomain}/2.0/users/me'

export const smartsheet = defineProvider({
  id: 'smartsheet',
  displayName: 'Smartsheet',
  docsUrl: [
    'https://developers.smartsheet.com/api/smartsheet/guides/advanced-topics/oauth',
    'https://developers.smartsheet.com/api/smartsheet/openapi/tokens/tokens-getorrefresh',
  ],
  apiBaseUrls: ['https://api.{smartsheetDomain}/2.0'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  revocation: { prefer: 'access_token', method: 'DELETE', clientAuth: 'bearer_access_token' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  settings: {
    smartsheetDomain: {
      description: 'Smartsheet region: `smartsheet.com`, `smartsheet.eu` (Regions Europe) or `smartsheetgov.com` (Gov)',
      example: 'smartsheet.eu',
      pattern: '^(smartsheet\\.com|smartsheet\\.eu|smartsheetgov\\.com)$',
      default: 'smartsheet.com',
    },
  },
  // "Space-delimited list of access scopes" (READ_SHEETS WRITE_SHEETS ...).
  scopeDelimiter: ' ',
  defaultScopes: ['READ_USERS'],
  pkce: 'unsupported',
  // POST /token takes `client_secret` in plain text or, instead, `hash` = SHA-256(app_secret|code);
  // the plain `client_secret` form needs no code hook.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last 7 days; a refresh returns a new refresh token and invalidates the old one.
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'The reference lists the /token parameters as query parameters with Content-Type ' +
    'application/x-www-form-urlencoded; the form body is what the core sends. Gov and Europe accounts need apps ' +
    'registered in that region.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.smartsheet.com/api/smartsheet/guides/advanced-topics/oauth',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-smartsheet-access-token',
      token_type: 'bearer',
      refresh_token: 'fake-smartsheet-refresh-token',
      expires_in: 604799,
    },
    expect: {
      accessToken: 'fake-smartsheet-access-token',
      refreshToken: 'fake-smartsheet-refresh-token',
      expiresIn: 604799,
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-smartsheet-access-token-2',
      token_type: 'bearer',
      refresh_token: 'fake-smartsheet-refresh-token-2',
      expires_in: 604799,
    },
    expect: {
      accessToken: 'fake-smartsheet-access-token-2',
      refreshToken: 'fake-smartsheet-refresh-token-2',
      expiresIn: 604799,
    },
  },
}
