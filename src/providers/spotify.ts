/**
 * @module providers/spotify
 * Spotify Web API authorization code flow.
 * @see https://developer.spotify.com/documentation/web-api/tutorials/code-flow
 * @see https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow
 * @see https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens
 * @see https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

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
  apiBaseUrls: ['https://api.spotify.com/v1'],
  authorizationEndpoint,
  tokenEndpoint,
  // "Get Current User's Profile": `email` needs `user-read-email`.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  defaultScopes: ['user-read-email'],
  // What each scope allows, in Spotify's words: the "Visible to users" line of its scopes guide.
  scopeDescriptions: {
    'user-read-email': 'Get your real email address',
    'user-read-private': 'Access your subscription details',
    'user-read-playback-state': 'Read your currently playing content and Spotify Connect devices information',
    'user-modify-playback-state': 'Control playback on your Spotify clients and Spotify Connect devices',
    'user-read-currently-playing': 'Read your currently playing content',
    'user-read-recently-played': 'Access your recently played items',
    'user-top-read': 'Read your top artists and contents',
    'user-library-read': 'Access your saved content',
    'user-library-modify': 'Manage your saved content',
    'playlist-read-private': 'Access your private playlists',
    'playlist-read-collaborative': 'Access your collaborative playlists',
    'playlist-modify-public': 'Manage your public playlists',
    'playlist-modify-private': 'Manage your private playlists',
    'user-follow-read': 'Access your followers and who you are following',
    'user-follow-modify': 'Manage who you are following',
  },
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

/**
 * The code-exchange answer as "Authorization Code Flow" prints it and the refresh answer as "Refreshing
 * tokens" (developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens) prints it, with fake
 * values (compared through verbatim copies of both samples, `NgCXRK...MzYjw` and `BQBLuPRYBQ...`):
 * `token_type` Bearer, `scope` space-separated, `expires_in` 3600, `refresh_token`. The refresh page adds
 * that a refresh answer may carry no `refresh_token`; the core then keeps the old one.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.spotify.com/documentation/web-api/tutorials/code-flow',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-spotify-access-token',
      token_type: 'Bearer',
      scope: 'user-read-private user-read-email',
      expires_in: 3600,
      refresh_token: 'fake-spotify-refresh-token',
    },
    expect: {
      accessToken: 'fake-spotify-access-token',
      refreshToken: 'fake-spotify-refresh-token',
      expiresIn: 3600,
      scope: ['user-read-private', 'user-read-email'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-spotify-access-token-2',
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: 'fake-spotify-refresh-token-2',
      scope: 'user-read-email user-read-private',
    },
    expect: {
      accessToken: 'fake-spotify-access-token-2',
      refreshToken: 'fake-spotify-refresh-token-2',
      expiresIn: 3600,
      scope: ['user-read-email', 'user-read-private'],
    },
  },
}
