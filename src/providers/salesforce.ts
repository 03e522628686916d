/**
 * @module providers/salesforce
 * Salesforce OAuth 2.0 web server flow (authorization code) against a login or My Domain host.
 * @see https://help.salesforce.com/HTViewHelpDoc?id=remoteaccess_oauth_web_server_flow.htm
 * @see https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.remoteaccess_oauth_tokens_scopes.htm
 * @see https://help.salesforce.com/HTViewHelpDoc?id=remoteaccess_using_userinfo_endpoint.htm
 * @see https://developer.salesforce.com/docs/platform/mobile-sdk/guide/oauth-revoking-tokens.html
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const base = 'https://{loginDomain}/services/oauth2'
const authorizationEndpoint = `${base}/authorize`
const tokenEndpoint = `${base}/token`
const revocationEndpoint = `${base}/revoke`
const userInfoEndpoint = `${base}/userinfo`

export const salesforce = defineProvider({
  id: 'salesforce',
  displayName: 'Salesforce',
  docsUrl: [
    'https://help.salesforce.com/HTViewHelpDoc?id=remoteaccess_oauth_web_server_flow.htm',
    'https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.remoteaccess_oauth_tokens_scopes.htm',
    'https://help.salesforce.com/HTViewHelpDoc?id=remoteaccess_using_userinfo_endpoint.htm',
  ],
  authorizationEndpoint,
  tokenEndpoint,
  // POST form `token=…`: a refresh token revokes itself and every access token issued from it.
  revocationEndpoint,
  // OpenID Connect UserInfo: `user_id` is the 18-character Salesforce user id.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user_id', accountLabel: '$.preferred_username' },
  settings: {
    loginDomain: {
      description:
        'Login host: login.salesforce.com (production), test.salesforce.com (sandbox) or the org’s My Domain ' +
        'host (acme.my.salesforce.com, acme--dev.sandbox.my.salesforce.com)',
      example: 'acme.my.salesforce.com',
      pattern: '^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$',
      default: 'login.salesforce.com',
    },
  },
  scopeDelimiter: ' ',
  // `refresh_token` (synonym `offline_access`) must be requested, or no refresh token is issued
  // (`full` alone does not return one). `openid` gives the UserInfo endpoint and an ID token.
  defaultScopes: ['openid', 'refresh_token'],
  // code_challenge / code_verifier are documented optional parameters of the web server flow.
  pkce: 'supported',
  // client_id/client_secret in the body is the documented form (HTTP Basic is also accepted).
  tokenEndpointAuthMethod: 'client_secret_post',
  // The token response has `issued_at` but no `expires_in`: the lifetime is the org's session
  // timeout (2 h by default, admin-configurable from 15 min to 24 h).
  assumedAccessTokenLifetimeSeconds: 7200,
  // API calls go to the org's own host, returned with every token.
  tokenResponse: { keep: { instance_url: '$.instance_url' } },
  // The proxy's base: that host (My Domain, enhanced domains: https://acme.my.salesforce.com).
  connectionApiBase: { userInfo: 'instance_url', hosts: ['*.my.salesforce.com'] },
  // Default refresh token policy is "valid until revoked"; rotation is an opt-in app setting.
  refreshTokens: 'static',
  returnsGrantedScopes: true,
  notes:
    'API calls go to the org’s own host (`instance_url` in the token response, kept as `user_info.instance_url`), ' +
    'not the login host. If an ' +
    'org shortens its session timeout below 2 h, calls fail with "Session expired or invalid" until the next ' +
    'refresh. Connected apps may opt into refresh token rotation; the core keeps whichever refresh token comes last.',
})

/**
 * The web server flow's code-exchange answer and the refresh token flow's answer as Salesforce Help prints
 * them (copied verbatim into public code: `issued_at` 1558553873237 and 1278448384422), with fake values:
 * `access_token`, `signature`, `scope` space-separated, `instance_url`, `id`, `token_type` Bearer,
 * `issued_at`, no `expires_in` (hence `assumedAccessTokenLifetimeSeconds`); `refresh_token` only with the
 * `refresh_token` scope, and never in the refresh answer.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-salesforce-access-token',
      signature: 'fake-signature',
      scope: 'refresh_token api id',
      instance_url: 'https://acme.my.salesforce.com',
      id: 'https://login.salesforce.com/id/00Dfake/005fake',
      token_type: 'Bearer',
      issued_at: '1558553873237',
      refresh_token: 'fake-salesforce-refresh-token',
    },
    expect: {
      accessToken: 'fake-salesforce-access-token',
      refreshToken: 'fake-salesforce-refresh-token',
      scope: ['refresh_token', 'api', 'id'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-salesforce-access-token-2',
      signature: 'fake-signature',
      scope: 'refresh_token api id',
      instance_url: 'https://acme.my.salesforce.com',
      id: 'https://login.salesforce.com/id/00Dfake/005fake',
      token_type: 'Bearer',
      issued_at: '1558557473237',
    },
    expect: { accessToken: 'fake-salesforce-access-token-2', scope: ['refresh_token', 'api', 'id'] },
  },
}
