/**
 * @module providers/twitch
 * Twitch authorization code grant flow (user access tokens).
 * @see https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#authorization-code-grant-flow
 * @see https://dev.twitch.tv/docs/authentication/refresh-tokens/
 * @see https://dev.twitch.tv/docs/authentication/revoke-tokens/
 * @see https://dev.twitch.tv/docs/api/reference/#get-users
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://id.twitch.tv/oauth2/authorize'
const tokenEndpoint = 'https://id.twitch.tv/oauth2/token'
const revocationEndpoint = 'https://id.twitch.tv/oauth2/revoke'
const userInfoEndpoint = 'https://api.twitch.tv/helix/users'

export const twitch = defineProvider({
  id: 'twitch',
  displayName: 'Twitch',
  docsUrl: [
    'https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/',
    'https://dev.twitch.tv/docs/authentication/refresh-tokens/',
    'https://dev.twitch.tv/docs/authentication/revoke-tokens/',
  ],
  // Helix also needs the `Client-Id` header, which the caller sends (it is not a secret).
  apiBaseUrls: ['https://api.twitch.tv/helix'],
  authorizationEndpoint,
  tokenEndpoint,
  // POST client_id + token (form): revokes the access token.
  revocationEndpoint,
  revocation: { prefer: 'access_token' },
  userInfo: {
    endpoint: userInfoEndpoint,
    // Every Helix request needs the app's Client-Id header next to the bearer token.
    headers: { 'Client-Id': '{{client_id}}' },
    // "Get Users" without parameters returns the token's user as the only element of `data`.
    accountId: '$.data[0].id',
    accountLabel: '$.data[0].login',
  },
  // Space-separated (URL-encoded) scope list.
  scopeDelimiter: ' ',
  // `email` in Get Users needs `user:read:email`.
  defaultScopes: ['user:read:email'],
  // PKCE is not part of the documented flow.
  pkce: 'unsupported',
  // client_id and client_secret are documented body parameters of the token request.
  tokenEndpointAuthMethod: 'client_secret_post',
  // A refresh answers with a new access token and refresh token.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Twitch requires apps to validate user tokens (GET https://id.twitch.tv/oauth2/validate) at start-up and ' +
    'hourly. Granted scopes come back as a JSON array. Refresh tokens of confidential clients do not expire but ' +
    'are invalidated when the user changes password or disconnects the app.',
})

/**
 * The token answer as its documentation prints it, with fake values. The refresh answer too.
 * Twitch prints its refresh answer without `expires_in`.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-twitch-access-token',
      expires_in: 14124,
      refresh_token: 'fake-twitch-refresh-token',
      scope: ['channel:moderate', 'chat:edit', 'chat:read'],
      token_type: 'bearer',
    },
    expect: {
      accessToken: 'fake-twitch-access-token',
      refreshToken: 'fake-twitch-refresh-token',
      expiresIn: 14124,
      scope: ['channel:moderate', 'chat:edit', 'chat:read'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-twitch-access-token-2',
      refresh_token: 'fake-twitch-refresh-token-2',
      scope: ['channel:moderate', 'chat:edit', 'chat:read'],
      token_type: 'bearer',
    },
    expect: {
      accessToken: 'fake-twitch-access-token-2',
      refreshToken: 'fake-twitch-refresh-token-2',
      scope: ['channel:moderate', 'chat:edit', 'chat:read'],
    },
  },
}
