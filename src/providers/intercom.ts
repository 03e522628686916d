/**
 * @module providers/intercom
 * Intercom public apps (OAuth authorization code; tokens do not expire).
 * @see https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth
 * @see https://developers.intercom.com/docs/build-an-integration/learn-more/authentication
 * @see https://developers.intercom.com/building-apps/docs/rest-apis
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://app.intercom.com/oauth'
const tokenEndpoint = 'https://api.intercom.io/auth/eagle/token'
const userInfoEndpoint = 'https://api.intercom.io/me'

export const intercom = defineProvider({
  id: 'intercom',
  displayName: 'Intercom',
  docsUrl: [
    'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth',
    'https://developers.intercom.com/building-apps/docs/rest-apis',
  ],
  apiBaseUrls: ['https://api.intercom.io', 'https://api.eu.intercom.io', 'https://api.au.intercom.io'],
  authorizationEndpoint,
  tokenEndpoint,
  // No OAuth revocation endpoint is documented: access ends when the workspace uninstalls the app.
  // "Identify an admin" (/me) returns the admin who authorized and their workspace under `app`;
  // api.intercom.io routes to the workspace's region (US, EU, AU).
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  // Permissions are ticked on the app in the Developer Hub; no scopes are requested at authorize time.
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // The code is exchanged by POSTing code, client_id and client_secret.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Tokens have no expiry and no refresh token is issued.
  refreshTokens: 'none',
  returnsGrantedScopes: false,
  notes:
    'Authorization codes expire after about 5 minutes. Redirect URLs must use HTTPS. Workspaces are hosted in the ' +
    'US, EU or Australia; api.intercom.io routes each token to its region, and regional hosts ' +
    '(api.eu.intercom.io, api.au.intercom.io) may be used for API calls.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The provider documents no separate refresh answer.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth',
  tokenResponse: {
    basis: 'unverified',
    body: { token_type: 'Bearer', token: 'fake-intercom-access-token', access_token: 'fake-intercom-access-token' },
    expect: { accessToken: 'fake-intercom-access-token' },
  },
}
