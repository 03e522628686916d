/**
 * @module providers/airtable
 * Airtable OAuth integrations (authorization code grant with mandatory PKCE).
 * @see https://airtable.com/developers/web/api/oauth-reference
 * @see https://airtable.com/developers/web/guides/oauth-integrations
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://airtable.com/oauth2/v1/authorize'
const tokenEndpoint = 'https://airtable.com/oauth2/v1/token'
const userInfoEndpoint = 'https://api.airtable.com/v0/meta/whoami'

export const airtable = defineProvider({
  id: 'airtable',
  displayName: 'Airtable',
  docsUrl: ['https://airtable.com/developers/web/api/oauth-reference', 'https://airtable.com/developers/web/guides/oauth-integrations'],
  apiBaseUrls: ['https://api.airtable.com/v0'],
  authorizationEndpoint,
  tokenEndpoint,
  // No token revocation endpoint is documented; users remove access from their integrations page.
  // whoami: `id` (usr…) always, `email` only with the `user.email:read` scope.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.email' },
  // `scope` is "a space delimited list of unique scopes"; at least one scope must be requested.
  scopeDelimiter: ' ',
  defaultScopes: ['user.email:read'],
  // code_challenge + code_challenge_method=S256 are required parameters of the authorization request.
  pkce: 'required',
  // Integrations with a client secret authenticate with `Authorization: Basic base64(client_id:secret)`.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Access tokens last 60 minutes; refresh tokens 60 days (`refresh_expires_in`). Refreshing
  // invalidates the previous access and refresh token and returns a new pair.
  tokenResponse: { map: { refresh_token_expires_in: '$.refresh_expires_in' } },
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Scopes must also be enabled on the integration at airtable.com/create/oauth. Which bases and workspaces the ' +
    'token reaches is chosen by the user on the consent page, not by scopes. Integrations registered without a ' +
    'client secret send client_id in the body instead (use a custom provider with auth method none).',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The refresh answer too.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://airtable.com/developers/web/api/oauth-reference',
  tokenResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-airtable-access-token',
      refresh_token: 'fake-airtable-refresh-token',
      token_type: 'Bearer',
      scope: 'data.records:read data.records:write',
      expires_in: 3600,
      refresh_expires_in: 5184000,
    },
    expect: {
      accessToken: 'fake-airtable-access-token',
      refreshToken: 'fake-airtable-refresh-token',
      expiresIn: 3600,
      scope: ['data.records:read', 'data.records:write'],
      refreshTokenExpiresIn: 5184000,
    },
  },
  refreshResponse: {
    basis: 'unverified',
    body: {
      access_token: 'fake-airtable-access-token-2',
      refresh_token: 'fake-airtable-refresh-token-2',
      token_type: 'Bearer',
      scope: 'data.records:read data.records:write',
      expires_in: 3600,
      refresh_expires_in: 5184000,
    },
    expect: {
      accessToken: 'fake-airtable-access-token-2',
      refreshToken: 'fake-airtable-refresh-token-2',
      expiresIn: 3600,
      scope: ['data.records:read', 'data.records:write'],
      refreshTokenExpiresIn: 5184000,
    },
  },
}
