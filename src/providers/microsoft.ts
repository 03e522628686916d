/**
 * @module providers/microsoft
 * Microsoft identity platform (v2.0 endpoints): work, school and personal Microsoft accounts.
 * @see https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
 * @see https://learn.microsoft.com/en-us/entra/identity-platform/userinfo
 * @see https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const base = 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0'
const authorizationEndpoint = `${base}/authorize`
const tokenEndpoint = `${base}/token`
const userInfoEndpoint = 'https://graph.microsoft.com/oidc/userinfo'

export const microsoft = defineProvider({
  id: 'microsoft',
  displayName: 'Microsoft',
  docsUrl: [
    'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
    'https://learn.microsoft.com/en-us/entra/identity-platform/userinfo',
    'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
  ],
  apiBaseUrls: ['https://graph.microsoft.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // OIDC UserInfo on Microsoft Graph; needs a Graph token (the default for OIDC-only scopes).
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  settings: {
    tenant: {
      description:
        'Directory (tenant) that may sign in: `common` (any account), `organizations` (work/school only), ' +
        '`consumers` (personal only), or a tenant id / verified domain (contoso.onmicrosoft.com)',
      example: 'contoso.onmicrosoft.com',
      pattern: '^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$',
      default: 'common',
    },
  },
  scopeDelimiter: ' ',
  // `offline_access` is required for a refresh token; add resource scopes such as `User.Read`.
  defaultScopes: ['openid', 'profile', 'email', 'offline_access'],
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    'User.Read': 'Sign you in and read your profile',
    'User.ReadBasic.All': "Read all users' basic profiles",
    'Mail.Read': 'Read your mail',
    'Mail.ReadWrite': 'Read and write access to your mail',
    'Mail.Send': 'Send mail as you',
    'Calendars.Read': 'Read your calendars',
    'Calendars.ReadWrite': 'Have full access to your calendars',
    'Contacts.Read': 'Read your contacts',
    'Files.Read': 'Read your files',
    'Files.Read.All': 'Read all files that you can access',
    'Files.ReadWrite': 'Have full access to your files',
    'Files.ReadWrite.All': 'Have full access to all files you have access to',
    'Sites.Read.All': 'Read items in all site collections',
    'Chat.Read': 'Read your chat messages',
    'Chat.ReadWrite': 'Read and write your chat messages',
    'ChannelMessage.Send': 'Send channel messages',
    'Tasks.ReadWrite': 'Create, read, update, and delete your tasks and task lists',
    'Notes.Read': 'Read your OneNote notebooks',
    'https://graph.microsoft.com/.default': 'All the Microsoft Graph permissions configured for this app',
  },
  // PKCE is recommended for all clients, including confidential web apps.
  pkce: 'supported',
  // client_secret in the form body is the documented shared-secret method.
  tokenEndpointAuthMethod: 'client_secret_post',
  accountHintParam: 'login_hint',
  // "Refresh tokens replace themselves with a fresh token upon every use."
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'An access token is for one resource: scopes of different APIs (Graph, Azure DevOps, …) cannot be mixed in ' +
    'one grant. Refresh tokens last 90 days (24 h for single-page apps) and can be revoked at any time by the ' +
    'tenant. There is no token revocation endpoint. Tenant ids are GUIDs in lower case here.',
})

/**
 * The code and refresh answers as "Microsoft identity platform and OAuth 2.0 authorization code flow"
 * prints them (MicrosoftDocs/entra-docs docs/identity-platform/v2-oauth2-auth-code-flow.md), with fake
 * values. The page prints `scope` URL-encoded (`https%3A%2F%2Fgraph.microsoft.com%2Fmail.read`), which the
 * JSON body never is; the example uses the decoded scope. `refresh_token` comes only with `offline_access`,
 * `id_token` only with `openid`.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-microsoft-access-token',
      token_type: 'Bearer',
      expires_in: 3599,
      scope: 'https://graph.microsoft.com/mail.read',
      refresh_token: 'fake-microsoft-refresh-token',
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.fake-signature',
    },
    expect: {
      accessToken: 'fake-microsoft-access-token',
      refreshToken: 'fake-microsoft-refresh-token',
      expiresIn: 3599,
      scope: ['https://graph.microsoft.com/mail.read'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-microsoft-access-token-2',
      token_type: 'Bearer',
      expires_in: 3599,
      scope: 'https://graph.microsoft.com/mail.read',
      refresh_token: 'fake-microsoft-refresh-token-2',
      id_token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.fake-signature',
    },
    expect: {
      accessToken: 'fake-microsoft-access-token-2',
      refreshToken: 'fake-microsoft-refresh-token-2',
      expiresIn: 3599,
      scope: ['https://graph.microsoft.com/mail.read'],
    },
  },
}
