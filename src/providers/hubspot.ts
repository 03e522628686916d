/**
 * @module providers/hubspot
 * HubSpot apps: OAuth with the date-versioned OAuth API (2026-03), which replaces the v1 endpoints.
 * @see https://developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide
 * @see https://developers.hubspot.com/docs/api-reference/2026-03/authentication/oauth-tokens/refresh-oauth-token
 * @see https://developers.hubspot.com/docs/api-reference/latest/authentication/oauth-tokens/revoke-token
 * @see https://developers.hubspot.com/changelog/v1-oauth-api-deprecation
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://app.hubspot.com/oauth/authorize'
const tokenEndpoint = 'https://api.hubapi.com/oauth/2026-03/token'
const revocationEndpoint = 'https://api.hubapi.com/oauth/2026-03/token/revoke'
const userInfoEndpoint = 'https://api.hubapi.com/account-info/v3/details'

export const hubspot = defineProvider({
  id: 'hubspot',
  displayName: 'HubSpot',
  docsUrl: [
    'https://developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide',
    'https://developers.hubspot.com/docs/api-reference/2026-03/authentication/oauth-tokens/refresh-oauth-token',
    'https://developers.hubspot.com/docs/api-reference/latest/authentication/oauth-tokens/revoke-token',
    'https://developers.hubspot.com/changelog/v1-oauth-api-deprecation',
  ],
  apiBaseUrls: ['https://api.hubapi.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // Form POST of token, token_type_hint, client_id and client_secret (RFC 7009 shape); revokes the refresh token.
  revocationEndpoint,
  // Account information API: the HubSpot account (portal / hub) the app was installed into.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.portalId', accountLabel: '$.uiDomain' },
  scopeDelimiter: ' ',
  // Every app must request the `oauth` scope.
  defaultScopes: ['oauth'],
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    oauth: 'Basic OAuth access (required by HubSpot for every app)',
    'crm.objects.contacts.read': 'View properties and other details about contacts',
    'crm.objects.contacts.write': 'View properties and create, delete, or make changes to contacts',
    'crm.objects.companies.read': 'View properties and other details about companies',
    'crm.objects.companies.write': 'View properties and create, delete, or make changes to companies',
    'crm.objects.deals.read': 'View properties and other details about deals',
    'crm.objects.deals.write': 'View properties and create, delete, or make changes to deals',
    'crm.objects.owners.read': 'View details about users assigned to a CRM record',
    'crm.schemas.contacts.read': 'View details about property settings for contacts',
    tickets: 'Read and write tickets',
    content: 'Read and write content on your website, landing pages, email, blog and campaigns',
    forms: 'Access forms and form submissions',
    'e-commerce': 'Access products and line items',
    files: 'Access the file manager',
  },
  // code_verifier is a documented token request parameter.
  pkce: 'supported',
  // client_id and client_secret go in the form body.
  tokenEndpointAuthMethod: 'client_secret_post',
  tokenResponse: {
    // Granted scopes come back as an array named `scopes`.
    map: { scope: '$.scopes' },
    // The installing account's id, needed to address it.
    keep: { hub_id: '$.hub_id' },
  },
  // Access tokens last 30 minutes; the refresh token stays valid until the app is uninstalled.
  refreshTokens: 'static',
  returnsGrantedScopes: true,
  notes:
    'The v1 endpoints (/oauth/v1/token, /oauth/v1/access-tokens/{token}) are sunset on 16 February 2027. ' +
    '`optional_scope` may be added via authorizationParams. The connection is to a HubSpot account (hub), not a ' +
    'user; the account-info endpoint used for identity is not part of the OAuth pages cited here.',
})

/**
 * The token answer as its documentation prints it, with fake values. The refresh answer too.
 * HubSpot added `hub_id` and `scopes` (an array) to both answers in August 2025; the changelog prints this body.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.hubspot.com/changelog/additional-details-returned-when-generating-oauth-access-tokens',
  tokenResponse: {
    basis: 'printed',
    body: {
      token_type: 'bearer',
      refresh_token: 'fake-hubspot-refresh-token',
      hub_id: 62515,
      scopes: ['oauth', 'crm.objects.contacts.write', 'crm.objects.contacts.read'],
      access_token: 'fake-hubspot-access-token',
      expires_in: 1800,
    },
    expect: {
      accessToken: 'fake-hubspot-access-token',
      refreshToken: 'fake-hubspot-refresh-token',
      expiresIn: 1800,
      scope: ['oauth', 'crm.objects.contacts.write', 'crm.objects.contacts.read'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      token_type: 'bearer',
      refresh_token: 'fake-hubspot-refresh-token',
      hub_id: 62515,
      scopes: ['oauth', 'crm.objects.contacts.write', 'crm.objects.contacts.read'],
      access_token: 'fake-hubspot-access-token-2',
      expires_in: 1800,
    },
    expect: {
      accessToken: 'fake-hubspot-access-token-2',
      refreshToken: 'fake-hubspot-refresh-token',
      expiresIn: 1800,
      scope: ['oauth', 'crm.objects.contacts.write', 'crm.objects.contacts.read'],
    },
  },
}
