/**
 * @module providers/digitalocean
 * DigitalOcean OAuth API (authorization code flow) for the public API v2.
 * @see https://docs.digitalocean.com/documentation/oauth/
 * @see https://docs.digitalocean.com/reference/api/oauth/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://cloud.digitalocean.com/v1/oauth/authorize'
const tokenEndpoint = 'https://cloud.digitalocean.com/v1/oauth/token'
const revocationEndpoint = 'https://cloud.digitalocean.com/v1/oauth/revoke'
const userInfoEndpoint = 'https://api.digitalocean.com/v2/account'

export const digitalocean = defineProvider({
  id: 'digitalocean',
  displayName: 'DigitalOcean',
  docsUrl: ['https://docs.digitalocean.com/documentation/oauth/', 'https://docs.digitalocean.com/reference/api/oauth/'],
  apiBaseUrls: ['https://api.digitalocean.com/v2'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // /revoke takes `token` and is authorized with `Authorization: Bearer <access token>`.
  revocation: { prefer: 'access_token', clientAuth: 'bearer_access_token' },
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.account.uuid', accountLabel: '$.account.email' },
  // `read`, `write` or `read write`, plus fine-grained scopes such as `droplet:read`.
  scopeDelimiter: ' ',
  defaultScopes: ['read'],
  // Public clients (no secret) secure the code exchange with PKCE.
  pkce: 'supported',
  tokenEndpointAuthMethod: 'client_secret_post',
  // Access tokens last 30 days. "You can use a refresh token exactly once" to get a new access
  // token and refresh token; refresh goes to /token with grant_type=refresh_token.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Tokens are issued for the team the user selects on the consent page. The token response also has `info` ' +
    '(name, email, uuid, team). Older docs listed a separate /v1/oauth/refresh endpoint; current docs refresh via /token.',
})

/**
 * The code-exchange answer as the OAuth API reference (docs.digitalocean.com/reference/api/oauth/, a copy of
 * the page) prints it, with fake values: `access_token` (`doo_v1_`), `token_type` bearer, `expires_in`
 * 2592000, `refresh_token` (`dor_v1_`), the user under `info` (name, email, uuid, team_uuid, team_name) and
 * no `scope`. The page says the refresh answer "is in the same format", so that one is built from it.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://docs.digitalocean.com/reference/api/oauth/',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-digitalocean-access-token',
      token_type: 'bearer',
      expires_in: 2592000,
      refresh_token: 'fake-digitalocean-refresh-token',
      info: { name: 'Sammy the Shark', email: 'sammy@example.com', uuid: 'fake-uuid', team_uuid: 'fake-team-uuid', team_name: 'My Team' },
    },
    expect: {
      accessToken: 'fake-digitalocean-access-token',
      refreshToken: 'fake-digitalocean-refresh-token',
      expiresIn: 2592000,
    },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-digitalocean-access-token-2',
      token_type: 'bearer',
      expires_in: 2592000,
      refresh_token: 'fake-digitalocean-refresh-token-2',
      info: { name: 'Sammy the Shark', email: 'sammy@example.com', uuid: 'fake-uuid', team_uuid: 'fake-team-uuid', team_name: 'My Team' },
    },
    expect: {
      accessToken: 'fake-digitalocean-access-token-2',
      refreshToken: 'fake-digitalocean-refresh-token-2',
      expiresIn: 2592000,
    },
  },
}
