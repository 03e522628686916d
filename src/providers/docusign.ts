/**
 * @module providers/docusign
 * Docusign Authorization Code Grant (confidential apps), developer or production account server.
 * @see https://developers.docusign.com/platform/auth/confidential-authcode-get-token/
 * @see https://developers.docusign.com/platform/auth/reference/obtain-access-token/
 * @see https://developers.docusign.com/platform/auth/reference/user-info/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://{accountHost}/oauth/auth'
const tokenEndpoint = 'https://{accountHost}/oauth/token'
const userInfoEndpoint = 'https://{accountHost}/oauth/userinfo'

export const docusign = defineProvider({
  id: 'docusign',
  displayName: 'Docusign',
  docsUrl: [
    'https://developers.docusign.com/platform/auth/confidential-authcode-get-token/',
    'https://developers.docusign.com/platform/auth/reference/obtain-access-token/',
  ],
  authorizationEndpoint,
  tokenEndpoint,
  // No token revocation endpoint is documented for the account server.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  settings: {
    accountHost: {
      description: 'Account server: `account-d.docusign.com` (developer/demo) or `account.docusign.com` (production)',
      example: 'account-d.docusign.com',
      pattern: '^account(-d)?\\.docusign\\.com$',
      default: 'account.docusign.com',
    },
  },
  // Scopes are space-separated (URL-encoded as %20).
  scopeDelimiter: ' ',
  // `signature` is needed for the eSignature API; `extended` makes each refresh return a refresh
  // token with a fresh full (30-day) lifetime instead of the remaining one.
  defaultScopes: ['signature', 'extended'],
  // Docusign accepts PKCE (code_challenge S256) on the authorization code grant.
  pkce: 'supported',
  // "Authorization: Basic base64(integration key:secret key)" on /oauth/token.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // A refresh returns an access token and a new refresh token; keep the newest.
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'API calls go to the account `base_uri` from /oauth/userinfo (`accounts[]`, one flagged `is_default`), not ' +
    'to the account server. Developer-account apps must pass Go-Live review before using account.docusign.com.',
})

/**
 * The token answer, with fake values, built from the fields Docusign documents for a successful
 * authorization-code exchange: its developer blog "Authorization Code Grant refresh tokens"
 * (docusign.com/blog/developers/authorization-code-grant-refresh-tokens) describes the example response
 * as an `access_token` of `token_type` Bearer with `expires_in` 28800 and a `refresh_token`, and says
 * the refresh token's 30-day lifetime is not in the response (no `refresh_token_expires_in`, no `scope`).
 * Two Docusign client libraries carry the same body as their fixture (`{"access_token":
 * "ISSUED_ACCESS_TOKEN","token_type":"Bearer","refresh_token":"ISSUED_REFRESH_TOKEN","expires_in":28800}`).
 * The refresh answer is still unverified: no refresh body was seen.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.docusign.com/platform/auth/confidential-authcode-get-token/',
  tokenResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-docusign-access-token',
      token_type: 'Bearer',
      refresh_token: 'fake-docusign-refresh-token',
      expires_in: 28800,
    },
    expect: {
      accessToken: 'fake-docusign-access-token',
      refreshToken: 'fake-docusign-refresh-token',
      expiresIn: 28800,
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-docusign-access-token-2',
      token_type: 'Bearer',
      refresh_token: 'fake-docusign-refresh-token-2',
      expires_in: 28800,
    },
    expect: {
      accessToken: 'fake-docusign-access-token-2',
      refreshToken: 'fake-docusign-refresh-token-2',
      expiresIn: 28800,
    },
  },
}
