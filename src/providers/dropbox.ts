/**
 * @module providers/dropbox
 * Dropbox OAuth 2.0 code flow with short-lived access tokens and offline refresh tokens.
 * @see https://developers.dropbox.com/oauth-guide
 * @see https://www.dropbox.com/developers/documentation/http/documentation#oauth2-authorize
 * @see https://www.dropbox.com/developers/documentation/http/documentation#users-get_current_account
 * @see https://dropbox.tech/developers/using-oauth-2-0-with-offline-access
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://www.dropbox.com/oauth2/authorize'
const tokenEndpoint = 'https://api.dropboxapi.com/oauth2/token'
const userInfoEndpoint = 'https://api.dropboxapi.com/2/users/get_current_account'
const revocationEndpoint = 'https://api.dropboxapi.com/2/auth/token/revoke'

export const dropbox = defineProvider({
  id: 'dropbox',
  displayName: 'Dropbox',
  docsUrl: [
    'https://developers.dropbox.com/oauth-guide',
    'https://www.dropbox.com/developers/documentation/http/documentation',
    'https://dropbox.tech/developers/using-oauth-2-0-with-offline-access',
  ],
  apiBaseUrls: ['https://api.dropboxapi.com/2', 'https://content.dropboxapi.com/2'],
  authorizationEndpoint,
  tokenEndpoint,
  // RPC endpoint: POST with no body (the route takes no arguments).
  userInfo: { endpoint: userInfoEndpoint, method: 'POST', accountId: '$.account_id', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  // Scoped apps: `account_info.read` is needed for get_current_account.
  defaultScopes: ['account_info.read'],
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    'account_info.read': 'View basic information about your Dropbox account such as your username, email, and country',
    'files.metadata.read': 'View information about your Dropbox files and folders',
    'files.metadata.write': 'View and edit information about your Dropbox files and folders',
    'files.content.read': 'View content of your Dropbox files and folders',
    'files.content.write': 'Edit content of your Dropbox files and folders',
    'sharing.read': 'View your Dropbox sharing settings and collaborators',
    'sharing.write': 'View and manage your Dropbox sharing settings and collaborators',
    'file_requests.read': 'View your file requests',
    'file_requests.write': 'Manage your file requests',
    'contacts.read': 'View your manually added Dropbox contacts',
  },
  // code_challenge / code_challenge_method are documented authorize parameters (S256 or plain).
  pkce: 'supported',
  // The OAuth guide's token examples authenticate with app key and secret as HTTP Basic.
  tokenEndpointAuthMethod: 'client_secret_basic',
  authorizationParams: {
    // Without token_access_type=offline Dropbox issues only a short-lived access token.
    token_access_type: 'offline',
  },
  // Short-lived access tokens (about 4 h); the refresh token is long-lived and is not replaced.
  refreshTokens: 'static',
  returnsGrantedScopes: true,
  // token/revoke: an RPC route with no arguments; the access token is the bearer credential.
  revocationEndpoint,
  revocation: { prefer: 'access_token', clientAuth: 'bearer_access_token', body: 'none' },
  notes: '`include_granted_scopes=user` requests incremental authorization.',
})

/**
 * The code-exchange answer as the HTTP documentation's /oauth2/token example prints it (copied verbatim
 * into public code: account `dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc`), with fake values: `expires_in`
 * 14400, `scope` space-separated, `account_id`, `uid`. The refresh answer likewise: the same page's
 * refresh_token-grant example answers only `access_token` (the same `sl.u.AbX9y6Fe3AuH5o66-...` sample),
 * `expires_in` 14400 and `token_type` bearer — no new refresh token, no `scope` (copied verbatim after a
 * refresh request in a public Dart client).
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://www.dropbox.com/developers/documentation/http/documentation#oauth2-token',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'sl.u.fake-dropbox-access-token',
      expires_in: 14400,
      token_type: 'bearer',
      scope: 'account_info.read files.content.read files.content.write files.metadata.read',
      refresh_token: 'fake-dropbox-refresh-token',
      account_id: 'dbid:FAKEACCOUNT',
      uid: '12345',
    },
    expect: {
      accessToken: 'sl.u.fake-dropbox-access-token',
      refreshToken: 'fake-dropbox-refresh-token',
      expiresIn: 14400,
      scope: ['account_info.read', 'files.content.read', 'files.content.write', 'files.metadata.read'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: { access_token: 'sl.fake-dropbox-access-token-2', expires_in: 14400, token_type: 'bearer' },
    expect: { accessToken: 'sl.fake-dropbox-access-token-2', expiresIn: 14400 },
  },
}
