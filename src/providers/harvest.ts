/**
 * @module providers/harvest
 * Harvest (and Forecast) API v2 OAuth2 through Harvest ID.
 * @see https://help.getharvest.com/api-v2/authentication-api/authentication/authentication/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://id.getharvest.com/oauth2/authorize'
const tokenEndpoint = 'https://id.getharvest.com/api/v2/oauth2/token'
// Lists the user and the Harvest/Forecast accounts the token can reach.
const userInfoEndpoint = 'https://id.getharvest.com/api/v2/accounts'

export const harvest = defineProvider({
  id: 'harvest',
  displayName: 'Harvest',
  docsUrl: 'https://help.getharvest.com/api-v2/authentication-api/authentication/authentication/',
  apiBaseUrls: ['https://api.harvestapp.com/v2', 'https://id.getharvest.com/api/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocation endpoint is documented; users revoke apps from their Harvest ID account.
  userInfo: {
    endpoint: userInfoEndpoint,
    // Harvest asks every API client to identify itself with a User-Agent.
    headers: { 'user-agent': 'Latchkey' },
    accountId: '$.user.id',
    accountLabel: '$.user.email',
  },
  // Optional `scope`: `harvest:{ACCOUNT_ID}`, `forecast:{ACCOUNT_ID}`, `harvest:all`, `forecast:all`
  // or `all`; without it the user picks the accounts on the consent page.
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  tokenEndpointAuthMethod: 'client_secret_post',
  tokenRequestHeaders: { 'user-agent': 'Latchkey' },
  // Access tokens expire (`expires_in`); a refresh returns a new access token and refresh token.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'API calls need the `Harvest-Account-Id` header (account ids come from /api/v2/accounts or the `scope` ' +
    'returned on the redirect) and a descriptive User-Agent.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://help.getharvest.com/api-v2/authentication-api/authentication/authentication/',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-harvest-access-token',
      refresh_token: 'fake-harvest-refresh-token',
      token_type: 'bearer',
      expires_in: 1209600,
    },
    expect: {
      accessToken: 'fake-harvest-access-token',
      refreshToken: 'fake-harvest-refresh-token',
      expiresIn: 1209600,
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-harvest-access-token-2',
      refresh_token: 'fake-harvest-refresh-token-2',
      token_type: 'bearer',
      expires_in: 1209600,
    },
    expect: {
      accessToken: 'fake-harvest-access-token-2',
      refreshToken: 'fake-harvest-refresh-token-2',
      expiresIn: 1209600,
    },
  },
}
