/**
 * @module providers/pipedrive
 * Pipedrive Marketplace OAuth 2.0 (authorization code flow).
 * @see https://pipedrive.readme.io/docs/marketplace-oauth-authorization
 * @see https://developers.pipedrive.com/docs/api/v1/Oauth
 * @see https://developers.pipedrive.com/docs/api/v1/Users#getCurrentUser
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://oauth.pipedrive.com/oauth/authorize'
const tokenEndpoint = 'https://oauth.pipedrive.com/oauth/token'
const revocationEndpoint = 'https://oauth.pipedrive.com/oauth/revoke'
const userInfoEndpoint = 'https://api.pipedrive.com/v1/users/me'

export const pipedrive = defineProvider({
  id: 'pipedrive',
  displayName: 'Pipedrive',
  docsUrl: ['https://pipedrive.readme.io/docs/marketplace-oauth-authorization', 'https://developers.pipedrive.com/docs/api/v1/Oauth'],
  apiBaseUrls: ['https://api.pipedrive.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // RFC 7009-style /oauth/revoke with Basic auth like the token endpoint. Revoking the refresh
  // token invalidates all tokens and uninstalls the app; revoking the access token does not.
  revocationEndpoint,
  revocation: { prefer: 'refresh_token' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.data.id', accountLabel: '$.data.email' },
  scopeDelimiter: ' ',
  // Scopes are chosen for the app in Developer Hub ("OAuth & access scopes"), not per request.
  pkce: 'unsupported',
  // The token endpoint requires `Authorization: Basic base64(client_id:client_secret)`.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Access tokens last about an hour; every refresh response carries a refresh token, which
  // expires after 60 days without use. Keep the latest one.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'The token response has `api_domain` (https://<company>.pipedrive.com): the base URL for that company’s API ' +
    'calls. The granted `scope` comes back comma-separated. A user connected to several companies authorizes the ' +
    'one they are logged into.',
})

/**
 * The token answer, with fake values, built from the fields Pipedrive's API reference documents for
 * POST /oauth/token (operation `get-tokens`, "Returns user Oauth2 tokens"): `access_token`,
 * `token_type` ("Always Bearer"), `refresh_token`, `scope` (one string), `expires_in` (seconds) and
 * `api_domain`; no refresh-token lifetime field (the refresh token lives 60 days from its last use).
 * The refresh answer likewise, from the same reference's POST /oauth/token/ operation `refresh-tokens`,
 * whose 200 response lists the same six fields.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.pipedrive.com/docs/api/v1/Oauth#getTokens',
  tokenResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-pipedrive-access-token',
      token_type: 'Bearer',
      refresh_token: 'fake-pipedrive-refresh-token',
      scope: 'base,deals:full',
      expires_in: 3599,
      api_domain: 'https://acme.pipedrive.com',
    },
    expect: {
      accessToken: 'fake-pipedrive-access-token',
      refreshToken: 'fake-pipedrive-refresh-token',
      expiresIn: 3599,
      scope: ['base', 'deals:full'],
    },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-pipedrive-access-token-2',
      token_type: 'Bearer',
      refresh_token: 'fake-pipedrive-refresh-token-2',
      scope: 'base,deals:full',
      expires_in: 3599,
      api_domain: 'https://acme.pipedrive.com',
    },
    expect: {
      accessToken: 'fake-pipedrive-access-token-2',
      refreshToken: 'fake-pipedrive-refresh-token-2',
      expiresIn: 3599,
      scope: ['base', 'deals:full'],
    },
  },
}
