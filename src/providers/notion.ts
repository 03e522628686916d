/**
 * @module providers/notion
 * Notion public connections (OAuth 2.0 authorization code grant), workspace-level bot tokens.
 * @see https://developers.notion.com/docs/authorization
 * @see https://developers.notion.com/reference/refresh-a-token
 * @see https://developers.notion.com/reference/revoke-token
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://api.notion.com/v1/oauth/authorize'
const tokenEndpoint = 'https://api.notion.com/v1/oauth/token'
const userInfoEndpoint = 'https://api.notion.com/v1/users/me'
const revocationEndpoint = 'https://api.notion.com/v1/oauth/revoke'
// API version sent where Notion requires the `Notion-Version` header.
const notionVersion = '2025-09-03'

export const notion = defineProvider({
  id: 'notion',
  displayName: 'Notion',
  docsUrl: [
    'https://developers.notion.com/docs/authorization',
    'https://developers.notion.com/reference/refresh-a-token',
    'https://developers.notion.com/reference/revoke-token',
  ],
  apiBaseUrls: ['https://api.notion.com/v1'],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  // "Revoke a token": JSON `{ token }`, HTTP Basic, and a Notion-Version header like every call.
  revocation: { prefer: 'access_token', body: 'json', clientAuth: 'client_secret_basic', headers: { 'Notion-Version': notionVersion } },
  // "Retrieve your token's bot user": the bot of this installation and the workspace it lives in.
  userInfo: {
    endpoint: userInfoEndpoint,
    // Every Notion API request must name an API version.
    headers: { 'Notion-Version': notionVersion },
    accountId: '$.id',
    accountLabel: '$.bot.workspace_name',
  },
  // Notion has no OAuth scopes: the user picks the pages to share on the consent screen.
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // The token endpoint takes client_id:client_secret as HTTP Basic.
  tokenEndpointAuthMethod: 'client_secret_basic',
  authorizationParams: {
    // Documented constant of the authorization URL.
    owner: 'user',
  },
  // The token endpoint is documented with a JSON request body only, and with a Notion-Version header.
  tokenRequestContentType: 'json',
  tokenRequestHeaders: { 'Notion-Version': notionVersion },
  // The response carries the installation's identifiers next to the tokens.
  tokenResponse: { keep: { bot_id: '$.bot_id', workspace_id: '$.workspace_id', workspace_name: '$.workspace_name' } },
  // Refreshing "generates a new access token and new refresh token".
  refreshTokens: 'rotating',
  returnsGrantedScopes: false,
  notes:
    'Older integrations received non-expiring tokens without a refresh token; the token response does not ' +
    'document `expires_in`, so tokens are treated as non-expiring until a refresh is needed.',
})

/**
 * The token answer as the API reference "Create a token" prints it (POST /v1/oauth/token), with fake
 * values; "Refresh a token" prints the same shape. No `expires_in` and no `scope` in either.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.notion.com/reference/create-a-token',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-notion-access-token',
      token_type: 'bearer',
      refresh_token: 'fake-notion-refresh-token',
      bot_id: 'fake-bot-id',
      workspace_name: 'Acme',
      workspace_icon: 'https://example.com/icon.png',
      workspace_id: 'fake-workspace-id',
      owner: { type: 'user', user: { object: 'user', id: 'fake-user-id', type: 'person', person: { email: 'ada@example.com' } } },
      duplicated_template_id: null,
      request_id: 'fake-request-id',
    },
    expect: { accessToken: 'fake-notion-access-token', refreshToken: 'fake-notion-refresh-token' },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-notion-access-token-2',
      token_type: 'bearer',
      refresh_token: 'fake-notion-refresh-token-2',
      bot_id: 'fake-bot-id',
      workspace_name: 'Acme',
      workspace_icon: 'https://example.com/icon.png',
      workspace_id: 'fake-workspace-id',
      owner: { type: 'user', user: { object: 'user', id: 'fake-user-id', type: 'person', person: { email: 'ada@example.com' } } },
      duplicated_template_id: null,
      request_id: 'fake-request-id',
    },
    expect: { accessToken: 'fake-notion-access-token-2', refreshToken: 'fake-notion-refresh-token-2' },
  },
}
