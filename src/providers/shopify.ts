/**
 * @module providers/shopify
 * Shopify Admin API authorization code grant (offline access mode) for one shop.
 * @see https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
 * @see https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
 * @see https://shopify.dev/docs/apps/build/security/credentials-and-data/use-expiring-offline-access-tokens
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{shop}.myshopify.com/admin/oauth/authorize'
const tokenEndpoint = 'https://{shop}.myshopify.com/admin/oauth/access_token'

export const shopify = defineProvider({
  id: 'shopify',
  displayName: 'Shopify',
  docsUrl: [
    'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
    'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens',
  ],
  apiBaseUrls: ['https://{shop}.myshopify.com/admin/api'],
  authorizationEndpoint,
  tokenEndpoint,
  // No OAuth revocation endpoint: access ends when the merchant uninstalls the app.
  // No userInfo: the Admin API only takes the token in `X-Shopify-Access-Token`, and the shop
  // itself (the `shop` setting) is the account.
  settings: {
    shop: {
      description: 'The shop’s myshopify.com subdomain (`acme` for acme.myshopify.com)',
      example: 'acme',
      pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
    },
  },
  // Access scopes are "a comma-separated list" (write_products,read_orders).
  scopeDelimiter: ',',
  pkce: 'unsupported',
  tokenEndpointAuthMethod: 'client_secret_post',
  // Ask for an expiring offline token (1 h access token + refresh token). Without `expiring=1`
  // Shopify issues the legacy offline token that never expires and has no refresh token; public
  // apps must use expiring tokens (Shopify rejects non-expiring ones for public apps from 2027).
  tokenRequestParams: { expiring: '1' },
  // "Shopify replaces its refresh token every time your app uses it."
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Offline access mode is the default (no `grant_options[]`); per-user online tokens would need ' +
    '`authorizationParams: { "grant_options[]": "per-user" }`. To get legacy non-expiring offline tokens ' +
    '(custom apps only), drop `expiring` in a custom provider; such tokens have no `expires_in` and are ' +
    'treated as non-expiring. Verify the HMAC of the callback if the app also receives Shopify-initiated installs.',
})

/**
 * The code-exchange answer for an expiring offline token as Shopify's docs print it (sample
 * `f85632530bf277ec9ac6f649fc327f17`, compared through a verbatim copy), with fake values: `scope`
 * comma-separated, `expires_in` 3600, `refresh_token` (`shprt_`), `refresh_token_expires_in` 7776000. A
 * non-expiring token's answer is only `access_token` and `scope`. The refresh answer is still unverified.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'shpat_fake-shopify-access-token',
      scope: 'write_orders,read_customers',
      expires_in: 3600,
      refresh_token: 'shprt_fake-shopify-refresh-token',
      refresh_token_expires_in: 7776000,
    },
    expect: {
      accessToken: 'shpat_fake-shopify-access-token',
      refreshToken: 'shprt_fake-shopify-refresh-token',
      expiresIn: 3600,
      scope: ['write_orders', 'read_customers'],
      refreshTokenExpiresIn: 7776000,
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'shpat_fake-shopify-access-token-2',
      scope: 'write_orders,read_customers',
      expires_in: 3600,
      refresh_token: 'shprt_fake-shopify-refresh-token-2',
      refresh_token_expires_in: 7776000,
    },
    expect: {
      accessToken: 'shpat_fake-shopify-access-token-2',
      refreshToken: 'shprt_fake-shopify-refresh-token-2',
      expiresIn: 3600,
      scope: ['write_orders', 'read_customers'],
      refreshTokenExpiresIn: 7776000,
    },
  },
}
