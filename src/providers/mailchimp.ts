/**
 * @module providers/mailchimp
 * Mailchimp Marketing API OAuth 2 (authorization code; tokens never expire).
 * @see https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/
 * @see https://developer.mailchimp.com/documentation/mailchimp/guides/how-to-use-oauth2/
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

const authorizationEndpoint = 'https://login.mailchimp.com/oauth2/authorize'
const tokenEndpoint = 'https://login.mailchimp.com/oauth2/token'
const userInfoEndpoint = 'https://login.mailchimp.com/oauth2/metadata'

export const mailchimp = defineProvider({
  id: 'mailchimp',
  displayName: 'Mailchimp',
  docsUrl: [
    'https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/',
    'https://developer.mailchimp.com/documentation/mailchimp/guides/how-to-use-oauth2/',
  ],
  authorizationEndpoint,
  tokenEndpoint,
  // No revocation endpoint: access ends when the user removes the app from their account.
  // The metadata endpoint names the account and its data center (`dc`, `api_endpoint`), which every
  // Marketing API call needs (https://{dc}.api.mailchimp.com/3.0); the whole body is kept as user_info.
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.user_id', accountLabel: '$.accountname' },
  // The proxy's base: `api_endpoint` (https://us19.api.mailchimp.com) + /3.0.
  connectionApiBase: { userInfo: 'api_endpoint', path: '/3.0', hosts: ['*.api.mailchimp.com'] },
  // Mailchimp has no OAuth scopes: a token reaches everything the authorizing user can.
  scopeDelimiter: ' ',
  pkce: 'unsupported',
  // client_id and client_secret are posted in the form body with the code.
  tokenEndpointAuthMethod: 'client_secret_post',
  // "Tokens do not expire": the response says `"expires_in": 0`, which the core reads as "no expiry".
  // "Tokens do not expire, so you do not need to use refresh_token": none is issued.
  refreshTokens: 'none',
  returnsGrantedScopes: false,
  notes:
    'The guide shows the metadata request with `Authorization: OAuth <token>`; the core sends `Bearer <token>`, ' +
    'which integrations commonly use with this endpoint but the guide does not show. A failed user-info lookup ' +
    'does not fail the grant. Mailchimp Transactional (Mandrill) does not use this OAuth flow.',
})

/**
 * The token answer as remembered from its documentation, with fake values: unverified, not yet
 * checked against `source` (see DocumentedTokenResponse.basis). The provider documents no separate refresh answer.
 * `expires_in: 0` and `scope: null`: the token never expires and no scope is stated.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/',
  tokenResponse: {
    basis: 'unverified',
    body: { access_token: 'fake-mailchimp-access-token', expires_in: 0, scope: null },
    expect: { accessToken: 'fake-mailchimp-access-token' },
  },
}
