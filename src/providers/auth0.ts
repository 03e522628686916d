/**
 * @module providers/auth0
 * Auth0 Authentication API: authorization code flow against a tenant domain.
 * @see https://auth0.com/docs/api/authentication
 * @see https://auth0.com/docs/secure/tokens/refresh-tokens/get-refresh-tokens
 * @see https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{domain}/authorize'
const tokenEndpoint = 'https://{domain}/oauth/token'
const revocationEndpoint = 'https://{domain}/oauth/revoke'
const userInfoEndpoint = 'https://{domain}/userinfo'

export const auth0 = defineProvider({
  id: 'auth0',
  displayName: 'Auth0',
  docsUrl: [
    'https://auth0.com/docs/api/authentication',
    'https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation',
  ],
  // The Management API (for a token issued for its audience) and the userinfo endpoint.
  apiBaseUrls: ['https://{domain}/api/v2', 'https://{domain}/userinfo'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // /oauth/revoke only revokes refresh tokens (and with them the grant), authenticated like /oauth/token.
  revocation: { prefer: 'refresh_token' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  settings: {
    domain: {
      description: 'Auth0 tenant domain (or custom domain)',
      example: 'acme.us.auth0.com',
      pattern: '^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$',
    },
  },
  scopeDelimiter: ' ',
  // A refresh token is only issued when `offline_access` is requested and the API allows offline access.
  defaultScopes: ['openid', 'email', 'profile', 'offline_access'],
  pkce: 'supported',
  // The application's "Token Endpoint Authentication Method" defaults to Post; Basic is selectable.
  tokenEndpointAuthMethod: 'client_secret_post',
  // With "Refresh Token Rotation" enabled every refresh returns a new refresh token (reuse
  // detection revokes the family); without it the refresh token is reused.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Without an `audience` authorize parameter the access token is opaque and only valid for /userinfo; set ' +
    '`authorizationParams.audience` to the API identifier to get a JWT for your own API.',
})

/**
 * The authorization-code answer as the Authentication API reference prints it (its sample
 * `"access_token":"eyJz93a...k4laUWw"`, found in copies of the auth0/docs source), with fake values:
 * `access_token`, `refresh_token`, `id_token`, `token_type` Bearer, `expires_in` 86400 and no `scope`.
 * The refresh answer as the same reference prints it ("Refresh Token": `"access_token": "eyJ...MoQ"`,
 * `expires_in` 86400, `scope` "openid offline_access", `id_token`, `token_type` Bearer; copies of the
 * auth0/docs source): no `refresh_token` without rotation; with rotation enabled the answer also carries a
 * new one, which the core keeps (`refreshTokens: 'rotating'`).
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://auth0.com/docs/api/authentication',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-auth0-access-token',
      refresh_token: 'fake-auth0-refresh-token',
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhdXRoMHxmYWtlLXVzZXIifQ.fake-signature',
      token_type: 'Bearer',
      expires_in: 86400,
    },
    expect: {
      accessToken: 'fake-auth0-access-token',
      refreshToken: 'fake-auth0-refresh-token',
      expiresIn: 86400,
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-auth0-access-token-2',
      expires_in: 86400,
      scope: 'openid offline_access',
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhdXRoMHxmYWtlLXVzZXIifQ.fake-signature',
      token_type: 'Bearer',
    },
    expect: {
      accessToken: 'fake-auth0-access-token-2',
      expiresIn: 86400,
      scope: ['openid', 'offline_access'],
    },
  },
}
