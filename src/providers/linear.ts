/**
 * @module providers/linear
 * Linear OAuth 2.0 authorization code grant (user actor), with refresh tokens.
 * @see https://linear.app/developers/oauth-2-0-authentication
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://linear.app/oauth/authorize'
const tokenEndpoint = 'https://api.linear.app/oauth/token'
const revocationEndpoint = 'https://api.linear.app/oauth/revoke'

export const linear = defineProvider({
  id: 'linear',
  displayName: 'Linear',
  docsUrl: 'https://linear.app/developers/oauth-2-0-authentication',
  // Linear's API is one GraphQL endpoint.
  apiBaseUrls: ['https://api.linear.app/graphql'],
  authorizationEndpoint,
  tokenEndpoint,
  // POST /oauth/revoke with the access token as bearer credential (and as `token` in the form body).
  revocationEndpoint,
  revocation: { prefer: 'access_token', clientAuth: 'bearer_access_token' },
  // Identity lives behind the GraphQL API: the `viewer` query names the authorizing user.
  userInfo: {
    endpoint: 'https://api.linear.app/graphql',
    body: { query: '{ viewer { id name email } }' },
    accountId: '$.data.viewer.id',
    accountLabel: '$.data.viewer.email',
    map: { id: '$.data.viewer.id', name: '$.data.viewer.name', email: '$.data.viewer.email' },
  },
  // `scope` is a "comma separated list of scopes".
  scopeDelimiter: ',',
  // `read` is the default and "will always be present".
  defaultScopes: ['read'],
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    read: 'Read access for your account',
    write: 'Write access for your account',
    'issues:create': 'Create new issues and their attachments',
    'comments:create': 'Create new issue comments',
    'timeSchedule:write': 'Create and modify time schedules',
    admin: 'Full access to admin level endpoints',
  },
  // PKCE is documented (code_challenge + code_challenge_method on /authorize).
  pkce: 'supported',
  // The token request is form-encoded with client_id and client_secret in the body.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Since April 1, 2026 every app uses refresh tokens: 24 h access tokens, a new refresh token on each refresh.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    '`actor=app` (set via ' +
    'authorizationParams) makes changes appear as the app instead of the user; `prompt=consent` lets a user ' +
    'connect another workspace.',
})

/**
 * The code-exchange and refresh answers as "OAuth 2.0 authentication" prints them for apps with refresh
 * tokens (the default since October 2025), with fake values: `expires_in` 86399, `scope` a space-separated
 * string (the authorize request sends it comma-separated), a new `refresh_token` on every refresh. The page
 * notes that apps created before 1 December 2023 get `scope` as an array of strings instead, which the
 * parser reads too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://linear.app/developers/oauth-2-0-authentication',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-linear-access-token',
      token_type: 'Bearer',
      expires_in: 86399,
      scope: 'read write',
      refresh_token: 'fake-linear-refresh-token',
    },
    expect: {
      accessToken: 'fake-linear-access-token',
      refreshToken: 'fake-linear-refresh-token',
      expiresIn: 86399,
      scope: ['read', 'write'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-linear-access-token-2',
      token_type: 'Bearer',
      expires_in: 86399,
      scope: 'read write',
      refresh_token: 'fake-linear-refresh-token-2',
    },
    expect: {
      accessToken: 'fake-linear-access-token-2',
      refreshToken: 'fake-linear-refresh-token-2',
      expiresIn: 86399,
      scope: ['read', 'write'],
    },
  },
}
