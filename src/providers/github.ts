/**
 * @module providers/github
 * GitHub OAuth apps and GitHub Apps (user-to-server tokens).
 * @see https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
 * @see https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
 * @see https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-authorization
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://github.com/login/oauth/authorize'
const tokenEndpoint = 'https://github.com/login/oauth/access_token'
const userInfoEndpoint = 'https://api.github.com/user'

export const github = defineProvider({
  id: 'github',
  displayName: 'GitHub',
  docsUrl: [
    'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps',
    'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens',
  ],
  apiBaseUrls: ['https://api.github.com', 'https://uploads.github.com'],
  authorizationEndpoint,
  tokenEndpoint,
  // "Delete an app authorization": DELETE /applications/{client_id}/grant, basic auth, JSON body.
  revocationEndpoint: 'https://api.github.com/applications/{{client_id}}/grant',
  revocation: { prefer: 'access_token', tokenParam: 'access_token', method: 'DELETE', body: 'json', clientAuth: 'client_secret_basic' },
  userInfo: {
    endpoint: userInfoEndpoint,
    headers: { accept: 'application/vnd.github+json' },
    accountId: '$.id',
    accountLabel: '$.login',
  },
  scopeDelimiter: ' ',
  defaultScopes: ['read:user'],
  // What each scope allows, in GitHub's words: the short labels its authorization page and token settings
  // show (docs.github.com "Scopes for OAuth apps" has the long form).
  scopeDescriptions: {
    repo: 'Full control of private repositories',
    public_repo: 'Access public repositories',
    'repo:status': 'Access commit status',
    'read:user': 'Read all user profile data',
    user: 'Update all user data',
    'user:email': 'Access user email addresses (read-only)',
    'read:org': 'Read org and team membership, read org projects',
    gist: 'Create gists',
    notifications: 'Access notifications',
    workflow: 'Update GitHub Action workflows',
    'write:packages': 'Upload packages to GitHub Package Registry',
    'read:packages': 'Download packages from GitHub Package Registry',
    delete_repo: 'Delete repositories',
    'admin:repo_hook': 'Full control of repository hooks',
  },
  pkce: 'supported',
  tokenEndpointAuthMethod: 'client_secret_post',
  // GitHub answers application/x-www-form-urlencoded unless asked for JSON, and reports
  // errors (bad_verification_code, …) with HTTP 200: the generic parser checks `error`.
  tokenRequestHeaders: { accept: 'application/json' },
  // OAuth apps: tokens never expire and there is no refresh token. GitHub Apps with
  // expiring user tokens: 8 h access tokens and 6-month refresh tokens that rotate on use.
  refreshTokens: 'rotating',
  returnsGrantedScopes: true,
  notes: 'Scopes come back comma-separated in `scope`; the parser accepts both delimiters.',
})

/**
 * The OAuth app answer as "Authorizing OAuth apps" prints it (JSON, `Accept: application/json`), with
 * fake values. The refresh answer is a GitHub App user token, built from the response-parameter table of
 * "Refreshing user access tokens" (github/docs data/reusables/apps/user-access-token-response-parameters.md):
 * `expires_in` always 28800, `refresh_token_expires_in` 15811200, `scope` always an empty string.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps',
  tokenResponse: {
    basis: 'printed',
    body: { access_token: 'gho_fake-github-access-token', scope: 'repo,gist', token_type: 'bearer' },
    expect: { accessToken: 'gho_fake-github-access-token', scope: ['repo', 'gist'] },
  },
  refreshResponse: {
    basis: 'fields',
    body: {
      access_token: 'ghu_fake-github-access-token',
      expires_in: 28800,
      refresh_token: 'ghr_fake-github-refresh-token',
      refresh_token_expires_in: 15811200,
      scope: '',
      token_type: 'bearer',
    },
    expect: {
      accessToken: 'ghu_fake-github-access-token',
      refreshToken: 'ghr_fake-github-refresh-token',
      expiresIn: 28800,
      scope: [],
      refreshTokenExpiresIn: 15811200,
    },
  },
}
