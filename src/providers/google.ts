/**
 * @module providers/google
 * Google OAuth 2.0 for web server apps.
 * @see https://developers.google.com/identity/protocols/oauth2/web-server
 * @see https://developers.google.com/identity/openid-connect/openid-connect#discovery
 */
import { defineProvider } from './define-provider.js'

const authorizationEndpoint = 'https://accounts.google.com/o/oauth2/v2/auth'
const tokenEndpoint = 'https://oauth2.googleapis.com/token'
const revocationEndpoint = 'https://oauth2.googleapis.com/revoke'
const userInfoEndpoint = 'https://openidconnect.googleapis.com/v1/userinfo'

export const google = defineProvider({
  id: 'google',
  displayName: 'Google',
  docsUrl: [
    'https://developers.google.com/identity/protocols/oauth2/web-server',
    'https://accounts.google.com/.well-known/openid-configuration',
  ],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  defaultScopes: ['openid', 'email', 'profile'],
  // The token response names the short OpenID scopes by their long URLs.
  scopeAliases: {
    email: 'https://www.googleapis.com/auth/userinfo.email',
    profile: 'https://www.googleapis.com/auth/userinfo.profile',
  },
  pkce: 'supported',
  tokenEndpointAuthMethod: 'client_secret_post',
  authorizationParams: {
    // Without access_type=offline Google issues no refresh token at all.
    access_type: 'offline',
    // Google only returns a refresh token on the first consent unless consent is forced.
    prompt: 'consent',
    // Incremental authorization: the new grant keeps the scopes granted before.
    include_granted_scopes: 'true',
  },
  refreshTokens: 'static',
  returnsGrantedScopes: true,
})
