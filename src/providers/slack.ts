/**
 * @module providers/slack
 * Slack "Sign in with Slack"-style user tokens through OAuth v2 (`user_scope`).
 * @see https://api.slack.com/authentication/oauth-v2
 * @see https://api.slack.com/methods/oauth.v2.access
 * @see https://api.slack.com/authentication/rotation
 * @see https://api.slack.com/methods/auth.revoke
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://slack.com/oauth/v2/authorize'
const tokenEndpoint = 'https://slack.com/api/oauth.v2.access'
const revocationEndpoint = 'https://slack.com/api/auth.revoke'
const userInfoEndpoint = 'https://slack.com/api/auth.test'

export const slack = defineProvider({
  id: 'slack',
  displayName: 'Slack',
  docsUrl: ['https://api.slack.com/authentication/oauth-v2', 'https://api.slack.com/authentication/rotation'],
  apiBaseUrls: ['https://slack.com/api'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // auth.revoke takes the token itself as the credential.
  revocation: { prefer: 'access_token', clientAuth: 'bearer_access_token' },
  userInfo: { endpoint: userInfoEndpoint, method: 'POST', accountId: '$.user_id', accountLabel: '$.user' },
  // Slack scopes are comma-separated, and user-token scopes go in `user_scope`, not `scope`.
  scopeDelimiter: ',',
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    'channels:read': 'View basic information about public channels in a workspace',
    'channels:history': 'View messages and other content in public channels',
    'groups:read': 'View basic information about private channels',
    'groups:history': 'View messages and other content in private channels',
    'im:read': 'View basic information about direct messages',
    'im:history': 'View messages and other content in direct messages',
    'mpim:history': 'View messages and other content in group direct messages',
    'chat:write': "Send messages on a user's behalf",
    'users:read': 'View people in a workspace',
    'users:read.email': 'View email addresses of people in a workspace',
    'users.profile:read': 'View profile details about people in a workspace',
    'files:read': 'View files shared in channels and conversations',
    'files:write': 'Upload, edit, and delete files',
    'reactions:read': 'View emoji reactions and their associated content',
    'reactions:write': 'Add and edit emoji reactions',
    'search:read': "Search a workspace's content",
    'team:read': 'View the name, email domain, and icon for workspaces',
  },
  scopeParam: 'user_scope',
  pkce: 'unsupported',
  tokenEndpointAuthMethod: 'client_secret_post',
  tokenResponse: {
    // The user token is nested under `authed_user`; the top-level token (if any) is the bot's.
    // Errors arrive as HTTP 200 `{ ok: false, error }`: the generic parser checks that.
    map: {
      access_token: '$.authed_user.access_token',
      refresh_token: '$.authed_user.refresh_token',
      expires_in: '$.authed_user.expires_in',
      scope: '$.authed_user.scope',
      token_type: '$.authed_user.token_type',
    },
  },
  // Refreshing a rotated user token answers with the tokens at the top level.
  refreshResponse: {},
  // Only with token rotation enabled on the app: 12 h access tokens, refresh tokens rotate.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
})

/**
 * The oauth.v2.access answer for a user token, with fake values: the nesting as the method page prints it
 * (user token under `authed_user`, `authed_user.scope` comma-separated), with the fields "Using token
 * rotation" prints for a rotating user token (`"id": "U1234", "scope": "chat:write", "access_token":
 * "xoxe.xoxp-1-1234-...", "expires_in": 43200, "refresh_token": "xoxe-1-...", "token_type": "user"`).
 * The refresh answer (top-level fields, as @slack/oauth's OAuthV2TokenRefreshResponse types it) is still
 * unverified: neither page prints it whole.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://docs.slack.dev/reference/methods/oauth.v2.access',
  tokenResponse: {
    basis: 'printed',
    body: {
      ok: true,
      app_id: 'A0FAKEAPP',
      authed_user: {
        id: 'U1234',
        scope: 'chat:write,channels:history',
        access_token: 'xoxp-fake-slack-access-token',
        token_type: 'user',
        refresh_token: 'xoxe-fake-slack-refresh-token',
        expires_in: 43200,
      },
      team: { id: 'T9TK3CUKW', name: 'Slack Softball Team' },
      enterprise: null,
      is_enterprise_install: false,
    },
    expect: {
      accessToken: 'xoxp-fake-slack-access-token',
      refreshToken: 'xoxe-fake-slack-refresh-token',
      expiresIn: 43200,
      scope: ['chat:write', 'channels:history'],
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      ok: true,
      access_token: 'xoxp-fake-slack-access-token-2',
      expires_in: 43200,
      refresh_token: 'xoxe-fake-slack-refresh-token-2',
      token_type: 'user',
      scope: 'chat:write,channels:history',
    },
    expect: {
      accessToken: 'xoxp-fake-slack-access-token-2',
      refreshToken: 'xoxe-fake-slack-refresh-token-2',
      expiresIn: 43200,
      scope: ['chat:write', 'channels:history'],
    },
  },
}
