/**
 * @module providers/webflow
 * Webflow Data API v2 OAuth apps ("Data Client" apps; tokens do not expire).
 * @see https://developers.webflow.com/data/reference/oauth-app
 * @see https://developers.webflow.com/data/docs/working-with-eu-hosting
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{webflowHost}/oauth/authorize'
const tokenEndpoint = 'https://api.{webflowHost}/oauth/access_token'
const revocationEndpoint = 'https://{webflowHost}/oauth/revoke_authorization'
const userInfoEndpoint = 'https://api.{webflowHost}/v2/token/authorized_by'

export const webflow = defineProvider({
  id: 'webflow',
  displayName: 'Webflow',
  docsUrl: ['https://developers.webflow.com/data/reference/oauth-app', 'https://developers.webflow.com/data/docs/working-with-eu-hosting'],
  apiBaseUrls: ['https://api.{webflowHost}/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // "Revoke an access token": JSON body with client_id, client_secret and access_token.
  revocation: { prefer: 'access_token', tokenParam: 'access_token', body: 'json', clientAuth: 'client_secret_post' },
  // "Get Authorization User Info" needs the `authorized_user:read` scope.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  settings: {
    webflowHost: {
      description: 'webflow.com, or eu.webflow.com for EU-hosted workspaces (the app is registered separately there)',
      example: 'eu.webflow.com',
      pattern: '^(eu\\.)?webflow\\.com$',
      default: 'webflow.com',
    },
  },
  // Scopes are space-separated (sites:read cms:write).
  scopeDelimiter: ' ',
  defaultScopes: ['authorized_user:read'],
  pkce: 'unsupported',
  // client_id, client_secret, code and grant_type are posted to the token endpoint.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Tokens have no expiry and there is no refresh token; they end when revoked or the app is removed.
  refreshTokens: 'none',
  returnsGrantedScopes: false,
  notes:
    'The user picks which sites or workspace the app may reach on the consent screen; list them with GET ' +
    '/v2/token/introspect. EU tokens only work against api.eu.webflow.com and US tokens only against ' +
    'api.webflow.com. Only workspace administrators can view the client secret.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The provider documents no separate refresh answer.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.webflow.com/data/reference/oauth-app',
  tokenResponse: {
    basis: 'unverified',
    body: { access_token: 'fake-webflow-access-token', token_type: 'bearer' },
    expect: { accessToken: 'fake-webflow-access-token' },
  },
}
