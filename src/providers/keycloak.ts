/**
 * @module providers/keycloak
 * Keycloak OpenID Connect endpoints of one realm.
 * @see https://www.keycloak.org/securing-apps/oidc-layers
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const base = 'https://{baseUrl}/realms/{realm}/protocol/openid-connect'
const authorizationEndpoint = `${base}/auth`
const tokenEndpoint = `${base}/token`
const revocationEndpoint = `${base}/revoke`
const userInfoEndpoint = `${base}/userinfo`

export const keycloak = defineProvider({
  id: 'keycloak',
  displayName: 'Keycloak',
  docsUrl: 'https://www.keycloak.org/securing-apps/oidc-layers',
  // The Account Console REST API, and the Admin REST API for tokens that carry admin roles.
  apiBaseUrls: ['https://{baseUrl}/realms/{realm}/account', 'https://{baseUrl}/admin/realms/{realm}'],
  // The realm is the issuer; Keycloak sends it as `iss` on the callback (RFC 9207).
  issuer: 'https://{baseUrl}/realms/{realm}',
  authorizationEndpoint,
  tokenEndpoint,
  // RFC 7009 revocation endpoint; revoking the refresh token ends the session's grant.
  revocationEndpoint,
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.preferred_username' },
  settings: {
    baseUrl: {
      description: 'Host name of the Keycloak server (no scheme, no path)',
      example: 'sso.example.com',
      pattern: '^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$',
    },
    realm: {
      description: 'Realm name',
      example: 'myrealm',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    },
  },
  scopeDelimiter: ' ',
  defaultScopes: ['openid', 'email', 'profile'],
  // Keycloak accepts S256 PKCE on any client (and can be configured to require it).
  pkce: 'supported',
  // "Client Id and Secret" client authenticator accepts both; Basic is the standard default.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Each refresh returns a new refresh token; with "Revoke Refresh Token" on, the old one is invalidated.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Keycloak before 17 (WildFly distribution) served everything under /auth (https://host/auth/realms/...); ' +
    'use a custom provider for such servers, and for a non-443 port (the host pattern has no `:port`). ' +
    'Add `offline_access` for offline tokens that outlive the SSO session.',
})

/**
 * The token answer built from the fields its documentation names (it prints no example), as
 * remembered, with fake values: unverified, not yet checked against `source`. The refresh answer too.
 * Keycloak's guide prints no body; built from the fields its token endpoint returns (5-minute tokens by default). `refresh_expires_in` is Keycloak's own name and is not read.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://www.keycloak.org/securing-apps/oidc-layers',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-keycloak-access-token',
      expires_in: 300,
      refresh_expires_in: 1800,
      refresh_token: 'fake-keycloak-refresh-token',
      token_type: 'Bearer',
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.fake-signature',
      'not-before-policy': 0,
      session_state: 'fake-session',
      scope: 'openid email profile',
    },
    expect: {
      accessToken: 'fake-keycloak-access-token',
      refreshToken: 'fake-keycloak-refresh-token',
      expiresIn: 300,
      scope: ['openid', 'email', 'profile'],
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-keycloak-access-token-2',
      expires_in: 300,
      refresh_expires_in: 1800,
      refresh_token: 'fake-keycloak-refresh-token-2',
      token_type: 'Bearer',
      'not-before-policy': 0,
      session_state: 'fake-session',
      scope: 'openid email profile',
    },
    expect: {
      accessToken: 'fake-keycloak-access-token-2',
      refreshToken: 'fake-keycloak-refresh-token-2',
      expiresIn: 300,
      scope: ['openid', 'email', 'profile'],
    },
  },
}
