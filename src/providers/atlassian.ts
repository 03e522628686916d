/**
 * @module providers/atlassian
 * Atlassian Cloud OAuth 2.0 (3LO) apps: Jira, Confluence and other products through api.atlassian.com.
 * @see https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/
 * @see https://developer.atlassian.com/cloud/oauth/getting-started/implementing-oauth-3lo
 * @see https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://auth.atlassian.com/authorize'
const tokenEndpoint = 'https://auth.atlassian.com/oauth/token'
const userInfoEndpoint = 'https://api.atlassian.com/me'

export const atlassian = defineProvider({
  id: 'atlassian',
  displayName: 'Atlassian',
  docsUrl: [
    'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
    'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
  ],
  apiBaseUrls: ['https://api.atlassian.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // User Identity API (`read:me`): the Atlassian account id and e-mail.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.account_id', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  // `offline_access` is the only way to get a refresh token.
  defaultScopes: ['read:me', 'offline_access'],
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    'read:me': 'View your user profile',
    'read:jira-user': 'View user information in Jira that you have access to, including usernames, email addresses, and avatars',
    'read:jira-work':
      'Read Jira project and issue data, search for issues, and objects associated with issues like attachments and worklogs',
    'write:jira-work': 'Create and edit issues in Jira, post comments as you, create worklogs, and delete issues',
    'manage:jira-project': 'Create and edit project settings and create new project-level objects (for example, versions and components)',
    'read:confluence-content.all': 'Read all content, including content body (expansions permitted)',
    'read:confluence-content.summary': 'Read a summary of the content, which is the content without expansions',
    'write:confluence-content': 'Create pages, blogs, comments and questions',
    'read:confluence-space.summary': 'Read a summary of space information without expansions',
    'search:confluence': 'Search Confluence content and space summaries',
  },
  // PKCE is not mentioned in the 3LO documentation.
  pkce: 'unsupported',
  // client_id and client_secret go in the token request body.
  tokenEndpointAuthMethod: 'client_secret_post',
  authorizationParams: {
    // The documented authorization URL names the API gateway as the audience.
    audience: 'api.atlassian.com',
    // Documented as required: the consent screen is always shown.
    prompt: 'consent',
  },
  // Rotating refresh tokens: every refresh returns a new one and invalidates the old one.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes:
    'Refresh tokens expire after 90 days of inactivity and 365 days after the first consent (absolute); reusing ' +
    'an old refresh token outside the 10-minute leeway revokes the whole token family. API calls go through ' +
    'https://api.atlassian.com/ex/{product}/{cloudid}/…; list the sites a token reaches with GET ' +
    'https://api.atlassian.com/oauth/token/accessible-resources. The documented token request examples use a ' +
    'JSON body; the endpoint is sent the standard form encoding here. No token revocation endpoint is ' +
    'documented: users remove apps from their Atlassian account settings.',
})

/**
 * The answers built from the templates the 3LO page prints (no values: `{"access_token": <string>,
 * "expires_in": <expiry time of access_token in second>, "scope": <string>}`; the refresh answer adds
 * `refresh_token`, as "Implementing a Refresh Token Flow" says the code exchange does with `offline_access`),
 * with fake values; `scope` space-separated. No `token_type` in either template.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
  tokenResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-atlassian-access-token',
      expires_in: 3600,
      scope: 'read:jira-work read:jira-user offline_access',
      refresh_token: 'fake-atlassian-refresh-token',
    },
    expect: {
      accessToken: 'fake-atlassian-access-token',
      refreshToken: 'fake-atlassian-refresh-token',
      expiresIn: 3600,
      scope: ['read:jira-work', 'read:jira-user', 'offline_access'],
    },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      access_token: 'fake-atlassian-access-token-2',
      refresh_token: 'fake-atlassian-refresh-token-2',
      expires_in: 3600,
      scope: 'read:jira-work read:jira-user offline_access',
    },
    expect: {
      accessToken: 'fake-atlassian-access-token-2',
      refreshToken: 'fake-atlassian-refresh-token-2',
      expiresIn: 3600,
      scope: ['read:jira-work', 'read:jira-user', 'offline_access'],
    },
  },
}
