/**
 * @module providers/linkedin
 * LinkedIn 3-legged OAuth (authorization code flow) with Sign In with LinkedIn using OpenID Connect.
 * @see https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
 * @see https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
 * @see https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://www.linkedin.com/oauth/v2/authorization'
const tokenEndpoint = 'https://www.linkedin.com/oauth/v2/accessToken'
const userInfoEndpoint = 'https://api.linkedin.com/v2/userinfo'

export const linkedin = defineProvider({
  id: 'linkedin',
  displayName: 'LinkedIn',
  docsUrl: [
    'https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow',
    'https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2',
    'https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens',
  ],
  apiBaseUrls: ['https://api.linkedin.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // OIDC UserInfo (product "Sign In with LinkedIn using OpenID Connect"): `sub` is the member id.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  defaultScopes: ['openid', 'profile', 'email'],
  // PKCE is documented only for native clients enabled by LinkedIn, not for web apps.
  pkce: 'unsupported',
  // client_id and client_secret are documented as form body parameters of the token request.
  tokenEndpointAuthMethod: 'client_secret_post',
  // Programmatic refresh tokens (approved partners only) keep their original 365-day lifetime;
  // a refresh returns a new access token and the same refresh token.
  refreshTokens: 'static',
  returnsGrantedScopes: true,
  notes:
    'Access tokens last 60 days. Refresh tokens are only issued to apps LinkedIn has enabled for programmatic ' +
    'refresh; other apps must send the member through the flow again when the token expires (the consent screen ' +
    'is skipped while the member is logged in). No revocation endpoint is declared: none is documented on the ' +
    'pages cited here.',
})

/**
 * The code-exchange and refresh answers as "Programmatic Refresh Tokens" prints them (a copy of the page's
 * markdown), with fake values: `expires_in`, `refresh_token` (the same one after a refresh),
 * `refresh_token_expires_in`, `scope`. The page's numbers do not match its own text: it says access tokens
 * live 60 days (5184000 s) and refresh tokens 365 days, yet prints `expires_in` 86400 and
 * `refresh_token_expires_in` 525600, then 439200 after a refresh — the minutes in 365 and 305 days (and
 * 86400 is the minutes in 60 days): the samples were written in minutes. The field itself is seconds: the
 * same page defines it as "the number of seconds remaining until the refresh token expires", and answers
 * captured from LinkedIn carry `"expires_in":5183999 ... "refresh_token_expires_in":31536059` (~365 days in
 * seconds; instantiator/open-social-distributor docs/linkedin-notes.md). So the definition reads seconds,
 * like every other provider; the example keeps the printed sample numbers only as shapes.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-linkedin-access-token',
      expires_in: 86400,
      refresh_token: 'fake-linkedin-refresh-token',
      refresh_token_expires_in: 525600,
      scope: 'r_basicprofile',
    },
    expect: {
      accessToken: 'fake-linkedin-access-token',
      refreshToken: 'fake-linkedin-refresh-token',
      expiresIn: 86400,
      scope: ['r_basicprofile'],
      refreshTokenExpiresIn: 525600,
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-linkedin-access-token-2',
      expires_in: 86400,
      refresh_token: 'fake-linkedin-refresh-token',
      refresh_token_expires_in: 439200,
      scope: 'r_basicprofile',
    },
    expect: {
      accessToken: 'fake-linkedin-access-token-2',
      refreshToken: 'fake-linkedin-refresh-token',
      expiresIn: 86400,
      scope: ['r_basicprofile'],
      refreshTokenExpiresIn: 439200,
    },
  },
}
