/**
 * @module providers/google
 * Google OAuth 2.0 for web server apps.
 * @see https://developers.google.com/identity/protocols/oauth2/web-server
 * @see https://developers.google.com/identity/openid-connect/openid-connect#discovery
 */
import { defineProvider, type ProviderExamples } from './define-provider.js'

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
  // Each Google API has its own host (its discovery document's rootUrl); the older ones share www.googleapis.com.
  apiBaseUrls: [
    'https://www.googleapis.com',
    'https://gmail.googleapis.com',
    'https://people.googleapis.com',
    'https://sheets.googleapis.com',
    'https://docs.googleapis.com',
    'https://slides.googleapis.com',
    'https://forms.googleapis.com',
    'https://tasks.googleapis.com',
    'https://chat.googleapis.com',
    'https://youtube.googleapis.com',
    'https://openidconnect.googleapis.com',
  ],
  authorizationEndpoint,
  tokenEndpoint,
  revocationEndpoint,
  userInfo: { endpoint: userInfoEndpoint, accountId: '$.sub', accountLabel: '$.email' },
  scopeDelimiter: ' ',
  defaultScopes: ['openid', 'email', 'profile'],
  // What each scope allows, in the provider's own words (its scope documentation).
  scopeDescriptions: {
    'https://www.googleapis.com/auth/gmail.readonly': 'View your email messages and settings',
    'https://www.googleapis.com/auth/gmail.send': 'Send email on your behalf',
    'https://www.googleapis.com/auth/gmail.compose': 'Manage drafts and send emails',
    'https://www.googleapis.com/auth/gmail.modify': 'Read, compose, and send emails from your Gmail account',
    'https://www.googleapis.com/auth/gmail.labels': 'See and edit your email labels',
    'https://mail.google.com/': 'Read, compose, send, and permanently delete all your email from Gmail',
    'https://www.googleapis.com/auth/calendar':
      'See, edit, share, and permanently delete all the calendars you can access using Google Calendar',
    'https://www.googleapis.com/auth/calendar.readonly': 'See and download any calendar you can access using your Google Calendar',
    'https://www.googleapis.com/auth/calendar.events': 'View and edit events on all your calendars',
    'https://www.googleapis.com/auth/calendar.events.readonly': 'View events on all your calendars',
    'https://www.googleapis.com/auth/drive': 'See, edit, create, and delete all of your Google Drive files',
    'https://www.googleapis.com/auth/drive.readonly': 'See and download all your Google Drive files',
    'https://www.googleapis.com/auth/drive.file':
      'See, edit, create, and delete only the specific Google Drive files you use with this app',
    'https://www.googleapis.com/auth/drive.metadata.readonly': 'See information about your Google Drive files',
    'https://www.googleapis.com/auth/spreadsheets': 'See, edit, create, and delete all your Google Sheets spreadsheets',
    'https://www.googleapis.com/auth/spreadsheets.readonly': 'See all your Google Sheets spreadsheets',
    'https://www.googleapis.com/auth/documents': 'See, edit, create, and delete all your Google Docs documents',
    'https://www.googleapis.com/auth/documents.readonly': 'See all your Google Docs documents',
    'https://www.googleapis.com/auth/contacts.readonly': 'See and download your contacts',
    'https://www.googleapis.com/auth/userinfo.email': 'See your primary Google Account email address',
    'https://www.googleapis.com/auth/userinfo.profile':
      "See your personal info, including any personal info you've made publicly available",
  },
  // The token response names the short OpenID scopes by their long URLs.
  scopeAliases: {
    email: 'https://www.googleapis.com/auth/userinfo.email',
    profile: 'https://www.googleapis.com/auth/userinfo.profile',
  },
  pkce: 'supported',
  tokenEndpointAuthMethod: 'client_secret_post',
  accountHintParam: 'login_hint',
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

/**
 * The code-exchange and refresh answers as "Using OAuth 2.0 for Web Server Applications" prints them,
 * with fake values: `access_token`, `expires_in` 3920, `token_type` Bearer, `scope` space-separated and
 * `refresh_token` (the refresh answer has none). Compared with the page's samples as copied verbatim into
 * public code (its sample token `1/fFAGRNJru1FTz70BzhT3Zg`), which show the same fields; the scope pair
 * (drive.metadata.readonly, calendar.readonly) is the one the page's current samples request.
 * Checked by test/providers/catalog.test.ts through the real parser and this file's maps.
 */
export const examples: ProviderExamples = {
  source: 'https://developers.google.com/identity/protocols/oauth2/web-server',
  tokenResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-google-access-token',
      expires_in: 3920,
      token_type: 'Bearer',
      scope: 'https://www.googleapis.com/auth/drive.metadata.readonly https://www.googleapis.com/auth/calendar.readonly',
      refresh_token: 'fake-google-refresh-token',
    },
    expect: {
      accessToken: 'fake-google-access-token',
      refreshToken: 'fake-google-refresh-token',
      expiresIn: 3920,
      scope: ['https://www.googleapis.com/auth/drive.metadata.readonly', 'https://www.googleapis.com/auth/calendar.readonly'],
    },
  },
  refreshResponse: {
    basis: 'printed',
    body: {
      access_token: 'fake-google-access-token-2',
      expires_in: 3920,
      scope: 'https://www.googleapis.com/auth/drive.metadata.readonly https://www.googleapis.com/auth/calendar.readonly',
      token_type: 'Bearer',
    },
    expect: {
      accessToken: 'fake-google-access-token-2',
      expiresIn: 3920,
      scope: ['https://www.googleapis.com/auth/drive.metadata.readonly', 'https://www.googleapis.com/auth/calendar.readonly'],
    },
  },
}
