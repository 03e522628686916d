/**
 * @module providers/clickup
 * ClickUp API v2 OAuth flow (authorization code; the user picks the Workspaces to authorize).
 * @see https://developer.clickup.com/docs/authentication
 * @see https://developer.clickup.com/reference/getaccesstoken
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://app.clickup.com/api'
const tokenEndpoint = 'https://api.clickup.com/api/v2/oauth/token'
const userInfoEndpoint = 'https://api.clickup.com/api/v2/user'

export const clickup = defineProvider({
  id: 'clickup',
  displayName: 'ClickUp',
  docsUrl: ['https://developer.clickup.com/docs/authentication', 'https://developer.clickup.com/reference/getaccesstoken'],
  apiBaseUrls: ['https://api.clickup.com/api/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  // "Get Authorized User": the user is nested under `user`.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user.id', accountLabel: '$.user.email' },
  // ClickUp has no OAuth scopes: access is per authorized Workspace.
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // client_id, client_secret and code are the documented parameters of the token request.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens do not expire and no refresh token is issued.
  refreshTokens: 'none',
  returnsGrantedScopes: false,
  notes:
    'The token request is documented with client_id, client_secret and code as query parameters; the core sends ' +
    'them in a form body (accepted by the endpoint in common use, but not stated in the reference). Only ' +
    'Workspace owners/admins can create OAuth apps. List the authorized Workspaces with GET /api/v2/team. ' +
    'No revocation endpoint is documented.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The provider documents no separate refresh answer.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.clickup.com/docs/authentication',
  tokenResponse: {
    basis: 'unverified',
    body: { access_token: 'fake-clickup-access-token', token_type: 'Bearer' },
    expect: { accessToken: 'fake-clickup-access-token' },
  },
}
