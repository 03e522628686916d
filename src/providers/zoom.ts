/**
 * @module providers/zoom
 * Zoom user-authorized OAuth apps (authorization code grant).
 * @see https://developers.zoom.us/docs/integrations/oauth/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://zoom.us/oauth/authorize'
const tokenEndpoint = 'https://zoom.us/oauth/token'
const revocationEndpoint = 'https://zoom.us/oauth/revoke'
// `me` stands for the user the token belongs to.
const userInfoEndpoint = 'https://api.zoom.us/v2/users/me'

export const zoom = defineProvider({
  id: 'zoom',
  displayName: 'Zoom',
  docsUrl: 'https://developers.zoom.us/docs/integrations/oauth/',
  apiBaseUrls: ['https://api.zoom.us/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  // "Revoking an access token": POST `token` form-encoded, client credentials as HTTP Basic.
  revocationEndpoint,
  revocation: { prefer: 'access_token' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  // Scopes are configured on the app in the Zoom App Marketplace; the authorize URL needs none.
  scopeDelimiter: ' ',
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    'user:read': 'View your user information',
    'user:read:user': 'View a user',
    'user:read:email': 'View your email address',
    'meeting:read': 'View your meetings',
    'meeting:write': 'View and manage your meetings',
    'meeting:read:list_meetings': 'View your list of meetings',
    'meeting:write:meeting': 'Create a meeting for a user',
    'recording:read': 'View your recordings',
    'cloud_recording:read:list_user_recordings': 'List all cloud recordings of a user',
    'webinar:read': 'View your webinars',
    'chat_message:write': 'Send chat messages',
  },
  // code_challenge / code_verifier are documented for the authorization code flow.
  pkce: 'supported',
  // "Basic authorization header": base64(client_id:client_secret).
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Each refresh returns a new refresh token and invalidates the previous one.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Access tokens last one hour; authorization codes five minutes. Reading /users/me needs `user:read:user` ' +
    '(granular scopes) or `user:read` (classic). Server-to-Server OAuth apps (account_credentials grant) are a ' +
    'different flow and not covered.',
})

/**
 * The code-exchange answer as Zoom's OAuth page prints it (compared through a verbatim copy of its sample,
 * whose JWTs carry `<Client_ID>` placeholders), with fake values: `token_type` bearer, `refresh_token`,
 * `expires_in` 3599, `scope`. The refresh answer is still unverified.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.zoom.us/docs/integrations/oauth/',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-zoom-access-token',
      token_type: 'bearer',
      refresh_token: 'fake-zoom-refresh-token',
      expires_in: 3599,
      scope: 'user:read:admin',
    },
    expect: {
      accessToken: 'fake-zoom-access-token',
      refreshToken: 'fake-zoom-refresh-token',
      expiresIn: 3599,
      scope: ['user:read:admin'],
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-zoom-access-token-2',
      token_type: 'bearer',
      refresh_token: 'fake-zoom-refresh-token-2',
      expires_in: 3599,
      scope: 'user:read:user',
    },
    expect: {
      accessToken: 'fake-zoom-access-token-2',
      refreshToken: 'fake-zoom-refresh-token-2',
      expiresIn: 3599,
      scope: ['user:read:user'],
    },
  },
}
