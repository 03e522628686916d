/**
 * @module providers/gitlab
 * GitLab as an OAuth 2.0 provider (GitLab.com or a self-managed / Dedicated instance).
 * @see https://docs.gitlab.com/api/oauth2/
 * @see https://docs.gitlab.com/integration/oauth_provider/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{host}/oauth/authorize'
const tokenEndpoint = 'https://{host}/oauth/token'
const revocationEndpoint = 'https://{host}/oauth/revoke'
const userInfoEndpoint = 'https://{host}/api/v4/user'

export const gitlab = defineProvider({
  id: 'gitlab',
  displayName: 'GitLab',
  docsUrl: ['https://docs.gitlab.com/api/oauth2/', 'https://docs.gitlab.com/integration/oauth_provider/'],
  apiBaseUrls: ['https://{host}/api/v4'],
  authorizationEndpoint,
  tokenEndpoint,
  // Plain RFC 7009 `/oauth/revoke` (client_id, client_secret, token), based on the doorkeeper gem.
  revocationEndpoint,
  // REST "current user" works with `read_user`; `/oauth/userinfo` would need the `openid` scope.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.username' },
  settings: {
    host: {
      description: 'GitLab instance host (gitlab.com, or a self-managed host such as gitlab.example.com)',
      example: 'gitlab.example.com',
      pattern: '^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$',
      default: 'gitlab.com',
    },
  },
  // Scopes are space-separated (`api read_user`).
  scopeDelimiter: ' ',
  defaultScopes: ['read_user'],
  // "Authorization code with PKCE" is the documented recommended flow for server apps too.
  pkce: 'supported',
  // The documented token request sends client_id and client_secret as parameters.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens expire after 2 hours (since GitLab 15.0). A refresh "invalidates the existing
  // access_token and refresh_token" and returns new ones: concurrent refreshes race.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'The OAuth application must be registered on the same instance as `host`. For `/oauth/userinfo` and an ID ' +
    'token, request `openid` (plus `profile`/`email`) in a custom provider.',
})

/**
 * The code and refresh answers as "OAuth 2.0 identity provider API" prints them (gitlab-org/gitlab
 * doc/api/oauth2.md), with fake values: `expires_in` 7200, a new refresh token on every refresh,
 * `created_at`, and no `scope`. The doorkeeper gem the API is based on does send `scope` (space-separated,
dropped when blank: lib/doorkeeper/oauth/token_response.rb), which is why `returnsGrantedScopes` stays true;
without it the granted scopes fall back to the requested ones.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://docs.gitlab.com/api/oauth2/',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-gitlab-access-token',
      token_type: 'bearer',
      expires_in: 7200,
      refresh_token: 'fake-gitlab-refresh-token',
      created_at: 1607635748,
    },
    expect: {
      accessToken: 'fake-gitlab-access-token',
      refreshToken: 'fake-gitlab-refresh-token',
      expiresIn: 7200,
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-gitlab-access-token-2',
      token_type: 'bearer',
      expires_in: 7200,
      refresh_token: 'fake-gitlab-refresh-token-2',
      created_at: 1628711391,
    },
    expect: {
      accessToken: 'fake-gitlab-access-token-2',
      refreshToken: 'fake-gitlab-refresh-token-2',
      expiresIn: 7200,
    },
  },
}
