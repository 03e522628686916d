/**
 * @module providers/okta
 * Okta OpenID Connect & OAuth 2.0 through a custom authorization server (`default` unless set).
 * @see https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/customas
 * @see https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/orgas
 * @see https://developer.okta.com/docs/guides/refresh-tokens/main/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const base = 'https://{domain}/oauth2/{authorizationServerId}/v1'
const authorizationEndpoint = `${base}/authorize`
const tokenEndpoint = `${base}/token`
const revocationEndpoint = `${base}/revoke`
const userInfoEndpoint = `${base}/userinfo`

export const okta = defineProvider({
  id: 'okta',
  displayName: 'Okta',
  docsUrl: [
    'https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/customas',
    'https://developer.okta.com/docs/guides/refresh-tokens/main/',
  ],
  apiBaseUrls: ['https://{domain}/api/v1'],
  // A custom authorization server's issuer (its metadata's `issuer`), sent as `iss` on the callback.
  issuer: 'https://{domain}/oauth2/{authorizationServerId}',
  authorizationEndpoint,
  tokenEndpoint,
  // Plain RFC 7009 `/v1/revoke`, client authenticated like the token endpoint.
  revocationEndpoint,
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  settings: {
    domain: {
      description: 'Okta org domain (or a custom domain configured for the org)',
      example: 'dev-123456.okta.com',
      pattern: '^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$',
    },
    authorizationServerId: {
      description: 'Custom authorization server id; `default` is the pre-configured one',
      example: 'aus1a2b3c4d5e6f7g8h9',
      pattern: '^[A-Za-z0-9]{1,64}$',
      default: 'default',
    },
  },
  scopeDelimiter: ' ',
  // Okta only issues a refresh token when `offline_access` is requested (and the app allows the
  // refresh_token grant).
  defaultScopes: ['openid', 'email', 'profile', 'offline_access'],
  // PKCE is required for SPA/native apps and accepted for web apps.
  pkce: 'supported',
  // Web apps default to client_secret_basic; client_secret_post is also accepted.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Per-app setting: "Rotate token after every use" (default for new apps) or a persistent token.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'The org authorization server lives at https://{domain}/oauth2/v1/... (no server id segment); it is not covered ' +
    'by these templates: define a custom provider for it. Rotated refresh tokens have a configurable grace period.',
})

/**
 * The code-exchange answer as Okta's OpenID Connect & OAuth 2.0 API reference prints it (its sample refresh
 * token `a9VpZDRCeFh3Nkk2VdY`, compared through verbatim copies, e.g. the omniauth-okta specs), with fake
 * values: `access_token`, `token_type` Bearer, `expires_in` 3600, `scope` space-separated, `refresh_token`,
 * `id_token`. The refresh answer as Okta's "Refresh access tokens" guide prints it ("Use a refresh token",
 * okta/okta-developer-docs docs/guides/refresh-tokens/main): `access_token`, `token_type` Bearer,
 * `expires_in` 3600, `scope`, `refresh_token` (the same one or a new one, depending on rotation) and
 * `id_token` when `openid` was asked for. (The guide prints the scope URL-encoded, `offline_access%20openid`;
 * the example keeps the space the token answer uses.)
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/customas',
  tokenResponse: {
    basis: 'printed',
    body: {
      token_type: 'Bearer',
      expires_in: 3600,
      access_token: 'fake-okta-access-token',
      scope: 'openid offline_access',
      refresh_token: 'fake-okta-refresh-token',
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.fake-signature',
    },
    expect: {
      accessToken: 'fake-okta-access-token',
      refreshToken: 'fake-okta-refresh-token',
      expiresIn: 3600,
      scope: ['openid', 'offline_access'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      token_type: 'Bearer',
      expires_in: 3600,
      access_token: 'fake-okta-access-token-2',
      scope: 'openid offline_access',
      refresh_token: 'fake-okta-refresh-token-2',
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.fake-signature',
    },
    expect: {
      accessToken: 'fake-okta-access-token-2',
      refreshToken: 'fake-okta-refresh-token-2',
      expiresIn: 3600,
      scope: ['openid', 'offline_access'],
    },
  },
}
