/**
 * @module providers/spotify
 * Spotify Web API authorization code flow.
 * @see https://developer.spotify.com/documentation/web-api/tutorials/code-flow
 * @see https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow
 * @see https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens
 * @see https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile
 */
import { defineProvider } from './define-provider.js'

const authorizationEndpoint = 'https://accounts.spotify.com/authorize'
const tokenEndpoint = 'https://accounts.spotify.com/api/token'
const userInfoEndpoint = 'https://api.spotify.com/v1/me'

export const spotify = defineProvider({
  id: 'spotify',
  displayName: 'Spotify',
  docsUrl: [
    'https://developer.spotify.com/documentation/web-api/tutorials/code-flow',
    'https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens',
    'https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile',
  ],
  authorizationEndpoint,
  tokenEndpoint,
  // "Get Current User's Profile": `email` needs `user-read-email`.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  defaultScopes: ['user-read-email'],
  // The PKCE variant of the code flow is documented (S256).
  pkce: 'supported',
  // The code flow sends `Authorization: Basic base64(client_id:client_secret)`.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Access tokens last one hour; a refresh may answer with a new refresh token (keep the newest).
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Apps in development mode only work for users added to the app’s allowlist in the Spotify dashboard. ' +
    '`show_dialog=true` (authorizationParams) forces the consent screen. Spotify documents no token revocation ' +
    'endpoint; users remove apps from their account page.',
})
