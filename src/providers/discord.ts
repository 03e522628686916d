/**
 * @module providers/discord
 * Discord OAuth2 authorization code grant.
 * @see https://discord.com/developers/docs/topics/oauth2
 * @see https://discord.com/.well-known/oauth-authorization-server
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://discord.com/oauth2/authorize'
const tokenEndpoint = 'https://discord.com/api/oauth2/token'
const revocationEndpoint = 'https://discord.com/api/oauth2/token/revoke'
const userInfoEndpoint = 'https://discord.com/api/users/@me'

export const discord = defineProvider({
  id: 'discord',
  displayName: 'Discord',
  docsUrl: ['https://discord.com/developers/docs/topics/oauth2', 'https://discord.com/.well-known/oauth-authorization-server'],
  apiBaseUrls: ['https://discord.com/api'],
  // RFC 8414 metadata: issuer https://discord.com, `authorization_response_iss_parameter_supported: true`.
  issuer: 'https://discord.com',
  authorizationEndpoint,
  tokenEndpoint,
  // RFC 7009: token + token_type_hint, client authenticated like the token endpoint.
  revocationEndpoint,
  // "Get Current User": `identify` gives id and username; `email` adds the address.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.id', accountLabel: '$.username' },
  scopeDelimiter: ' ',
  defaultScopes: ['identify'],
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    identify: 'Know your username, avatar and banner (without your email)',
    email: 'Know your email address',
    guilds: 'Know basic information about the servers you are in',
    'guilds.members.read': 'Read your member information (nickname, avatar, roles) in the servers you are in',
    'guilds.join': 'Join servers for you',
    connections: 'Know the third-party accounts you have linked',
    'messages.read': 'Read all messages from all your direct message channels (local RPC server only)',
    bot: 'Add a bot to a server you manage',
    'applications.commands': 'Use commands in a server',
  },
  // Metadata lists `code_challenge_methods_supported: ["S256"]`; Discord enforces a verifier of ≥ 43 characters.
  pkce: 'supported',
  // The documented token exchange examples send client_id:client_secret as HTTP Basic.
  tokenEndpointAuthMethod: 'client_secret_basic',
  // Each refresh answers with a new refresh token; keep the newest.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Access tokens last 7 days (`expires_in` 604800). Bot authorization (`bot` scope, `permissions`, ' +
    '`guild_id`) is a different flow and not covered by this definition.',
})

/**
 * The token answer as "Access Token Response" prints it (discord/discord-api-docs docs/topics/OAuth2.md),
 * with fake values: `scope` space-separated, `expires_in` 604800. For a refresh the page says "You will receive
 * a fresh access token response", so the refresh answer is built from the same fields.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://discord.com/developers/docs/topics/oauth2',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-discord-access-token',
      token_type: 'Bearer',
      expires_in: 604800,
      refresh_token: 'fake-discord-refresh-token',
      scope: 'identify',
    },
    expect: {
      accessToken: 'fake-discord-access-token',
      refreshToken: 'fake-discord-refresh-token',
      expiresIn: 604800,
      scope: ['identify'],
    },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-discord-access-token-2',
      token_type: 'Bearer',
      expires_in: 604800,
      refresh_token: 'fake-discord-refresh-token-2',
      scope: 'identify',
    },
    expect: {
      accessToken: 'fake-discord-access-token-2',
      refreshToken: 'fake-discord-refresh-token-2',
      expiresIn: 604800,
      scope: ['identify'],
    },
  },
}
