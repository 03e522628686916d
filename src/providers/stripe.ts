/**
 * @module providers/stripe
 * Stripe Connect OAuth for Standard accounts (a platform connecting its users' Stripe accounts).
 * @see https://docs.stripe.com/connect/oauth-reference
 * @see https://stripe.com/docs/connect/standard-accounts
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://connect.stripe.com/oauth/authorize'
const tokenEndpoint = 'https://connect.stripe.com/oauth/token'
const userInfoEndpoint = 'https://api.stripe.com/v1/account'

export const stripe = defineProvider({
  id: 'stripe',
  displayName: 'Stripe Connect',
  docsUrl: ['https://docs.stripe.com/connect/oauth-reference', 'https://stripe.com/docs/connect/standard-accounts'],
  apiBaseUrls: ['https://api.stripe.com', 'https://files.stripe.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocationEndpoint: Stripe's POST https://connect.stripe.com/oauth/deauthorize takes
  // `client_id` + `stripe_user_id` (the connected account id), not a token; see notes.
  // GET /v1/account with the connected account's token returns that account.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  // `scope` is a single value, `read_write` or `read_only` (Stripe's default when omitted).
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // The token request carries `client_secret` = the platform's secret API key (sk_live_/sk_test_),
  // not a separate OAuth client secret.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Connect access tokens do not expire (no `expires_in`); the refresh token only mints new
  // access tokens (e.g. to downgrade scope) and stays the same.
  refreshTokens: 'static',
  returnsGrantedScopes: true,
  notes:
    'Configure the platform secret key (sk_...) as the client secret and the platform client id (ca_...) as the client id. ' +
    'The token response also carries `stripe_user_id` (acct_...), `stripe_publishable_key` and `livemode`; Stripe recommends ' +
    'calling the API with the platform key plus the `Stripe-Account: <stripe_user_id>` header rather than the access token. ' +
    'Disconnect = POST https://connect.stripe.com/oauth/deauthorize with client_id and stripe_user_id, authenticated with the ' +
    'platform secret key; the revocation model cannot express it, so revoking is left to the operator. ' +
    'Express accounts use https://connect.stripe.com/express/oauth/authorize (define a custom provider).',
})

/**
 * The code-exchange answer as the Connect OAuth reference prints it (placeholders `{ACCESS_TOKEN}`,
 * `{PUBLISHABLE_KEY}`, `{ACCOUNT_ID}`; compared through verbatim copies), with fake values: `access_token`,
 * `livemode`, `refresh_token`, `token_type` bearer, `stripe_publishable_key`, `stripe_user_id`, `scope`
 * (`read_write`), no `expires_in`. The refresh answer is still unverified.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://docs.stripe.com/connect/oauth-reference',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'sk_test_fake-stripe-access-token',
      livemode: false,
      refresh_token: 'rt_fake-stripe-refresh-token',
      token_type: 'bearer',
      stripe_publishable_key: 'pk_test_fake',
      stripe_user_id: 'acct_fake',
      scope: 'read_write',
    },
    expect: {
      accessToken: 'sk_test_fake-stripe-access-token',
      refreshToken: 'rt_fake-stripe-refresh-token',
      scope: ['read_write'],
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'sk_test_fake-stripe-access-token-2',
      livemode: false,
      refresh_token: 'rt_fake-stripe-refresh-token',
      token_type: 'bearer',
      stripe_publishable_key: 'pk_test_fake',
      stripe_user_id: 'acct_fake',
      scope: 'read_write',
    },
    expect: {
      accessToken: 'sk_test_fake-stripe-access-token-2',
      refreshToken: 'rt_fake-stripe-refresh-token',
      scope: ['read_write'],
    },
  },
}
