/**
 * @module providers/strava
 * Strava API v3 OAuth 2.0 (web application flow).
 * @see https://developers.strava.com/docs/authentication/
 * @see https://developers.strava.com/docs/reference/#api-Athletes-getLoggedInAthlete
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://www.strava.com/oauth/authorize'
const tokenEndpoint = 'https://www.strava.com/oauth/token'
const revocationEndpoint = 'https://www.strava.com/oauth/deauthorize'
const userInfoEndpoint = 'https://www.strava.com/api/v3/athlete'

export const strava = defineProvider({
  id: 'strava',
  displayName: 'Strava',
  docsUrl: 'https://developers.strava.com/docs/authentication/',
  apiBaseUrls: ['https://www.strava.com/api/v3'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // Deauthorization: POST /oauth/deauthorize with the access token as `access_token`; it
  // revokes all tokens of the athlete for this app. No client credentials are involved.
  revocation: { prefer: 'access_token', tokenParam: 'access_token', clientAuth: 'none' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.username' },
  // "Requested scopes, as a comma delimited string" (read,activity:read_all).
  scopeDelimiter: ',',
  defaultScopes: ['read'],
  pkce: 'unsupported',
  tokenEndpointAuthMethod: 'client_secret_post',
  authorizationParams: {
    // "auto" skips the consent screen when the athlete already authorized the app.
    approval_prompt: 'auto',
  },
  // Access tokens last 6 h. A refresh may or may not return a new refresh token; the docs say
  // to always use the most recent one (older ones are invalidated once a new one is used).
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'Granted scopes come back on the redirect as a comma-separated `scope` query parameter, not in the token ' +
    'response; the athlete may untick optional scopes. The code exchange also returns a summary `athlete` object. ' +
    'Responses carry both `expires_in` and `expires_at` (epoch seconds).',
})

/**
 * The code-exchange and refresh answers as "Authentication" prints them (samples `a4b945687g...` and
 * `a9b723...`, compared through copies of the page), with fake values: `token_type` Bearer, `expires_at`
 * and `expires_in` (21600, then 20566), a new `refresh_token` on refresh, the `athlete` summary on the code
 * exchange only, and no `scope` (Strava reports granted scopes on the callback instead).
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.strava.com/docs/authentication/',
  tokenResponse: {
    basis: 'printed',
    body: {
      token_type: 'Bearer',
      expires_at: 1568775134,
      expires_in: 21600,
      refresh_token: 'fake-strava-refresh-token',
      access_token: 'fake-strava-access-token',
      athlete: { id: 1234567 },
    },
    expect: { accessToken: 'fake-strava-access-token', refreshToken: 'fake-strava-refresh-token', expiresIn: 21600 },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      token_type: 'Bearer',
      access_token: 'fake-strava-access-token-2',
      expires_at: 1568775134,
      expires_in: 20566,
      refresh_token: 'fake-strava-refresh-token-2',
    },
    expect: {
      accessToken: 'fake-strava-access-token-2',
      refreshToken: 'fake-strava-refresh-token-2',
      expiresIn: 20566,
    },
  },
}
