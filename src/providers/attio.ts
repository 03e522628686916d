/**
 * @module providers/attio
 * Attio REST API OAuth 2.0 authorization code grant (workspace-level tokens).
 * @see https://docs.attio.com/rest-api/guides/configuring-oauth
 * @see https://docs.attio.com/rest-api/endpoint-reference/oauth/oauth-20/authorize-endpoint
 * @see https://docs.attio.com/docs/oauth/token
 * @see https://docs.attio.com/rest-api/endpoint-reference/meta/identify
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://app.attio.com/authorize'
const tokenEndpoint = 'https://app.attio.com/oauth/token'
const userInfoEndpoint = 'https://api.attio.com/v2/self'

export const attio = defineProvider({
  id: 'attio',
  displayName: 'Attio',
  docsUrl: [
    'https://docs.attio.com/rest-api/guides/configuring-oauth',
    'https://docs.attio.com/rest-api/endpoint-reference/oauth/oauth-20/authorize-endpoint',
    'https://docs.attio.com/docs/oauth/token',
    'https://docs.attio.com/rest-api/endpoint-reference/meta/identify',
  ],
  apiBaseUrls: ['https://api.attio.com/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  // "Identify": the workspace the token is linked to, and the member who authorized it.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.workspace_id', accountLabel: '$.workspace_name' },
  // Scopes are chosen on the app at build.attio.com; the authorize endpoint takes no `scope`.
  scopeDelimiter: ' ',
  // PKCE is not among the documented authorize or token parameters.
  pkce: 'unsupported',
  // client_id and client_secret are documented body parameters of the token request.
  tokenEndpointAuthMethod: 'client_secret_post',
  // The token response is only `access_token` and `token_type`: no expiry, no refresh token.
  refreshTokens: 'none',
  returnsGrantedScopes: false,
  notes:
    'A token belongs to one workspace, not to a user; `/v2/self` also returns ' +
    '`authorized_by_workspace_member_id`. Unpublished apps can be installed in at most 25 workspaces. No revocation ' +
    'endpoint is documented (an introspection endpoint is).',
})

/**
 * The token answer built from the fields its documentation names (it prints no example), as
 * remembered, with fake values: unverified, not yet checked against `source`. The provider documents no separate refresh answer.
 * Attio documents `access_token` and `token_type` (tokens do not expire) but prints no full body.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://docs.attio.com/rest-api/guides/configuring-oauth',
  tokenResponse: {
    basis: 'unverified',
    body: { access_token: 'fake-attio-access-token', token_type: 'Bearer' },
    expect: { accessToken: 'fake-attio-access-token' },
  },
}
