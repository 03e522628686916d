/**
 * A minimal OAuth token endpoint on loopback, for measuring Latchkey's refresh path without an
 * authorization server's own cost in the figure (oidc-provider spends more CPU per refresh grant
 * than Latchkey does). It answers the refresh-token grant (RFC 6749 §6) with a new access token
 * and a ROTATED refresh token: each refresh token it issued works exactly once, a second use is
 * counted as a reuse and answered `invalid_grant`. Client authentication is HTTP Basic.
 *
 * It also answers the authorization-code grant (RFC 6749 §4.1.3) for codes minted by `consent()`:
 * the user's consent without a browser or login page, so a load generator can complete real flows
 * (Latchkey's callback, code exchange with the PKCE verifier, stored grant) for the cost of a hash.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { listenOnFreePort } from '../../test/helpers/ports.js'

export interface TokenEndpoint {
  url: string
  /** Refresh grants answered 200. */
  refreshes: number
  /** Refresh tokens presented a second time (or never issued). */
  reused: number
  /** Issues a refresh token the endpoint will accept once (to seed connections). */
  issue(): string
  /** Authorization codes exchanged (authorization-code grants answered 200). */
  codes: number
  /** Codes presented a second time or never minted, or with the wrong redirect URI or PKCE verifier. */
  badCodes: number
  /**
   * The user consents to this authorization URL (Latchkey's redirect to `…/authorize`): mints a
   * one-time code bound to its redirect URI and PKCE challenge. Returns the callback URL the
   * provider would send the browser to, and the access token the code's exchange will hand out.
   */
  consent(authorizationUrl: string): { callbackUrl: string; accessToken: string }
  /** Provider entry for Latchkey's config (`providerEntries`). */
  entry(id: string): Record<string, unknown>
  close(): Promise<void>
}

export async function startTokenEndpoint(options: { accessTokenTtlSeconds?: number } = {}): Promise<TokenEndpoint> {
  // Letters only: client_secret_basic form-encodes both before base64 (RFC 6749 §2.3.1).
  const clientId = 'benchclient'
  const clientSecret = 'benchsecret'
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`
  const live = new Set<string>()
  const state = { refreshes: 0, reused: 0, codes: 0, badCodes: 0 }
  const codes = new Map<string, { redirectUri: string; challenge: string | null; accessToken: string; scope: string | null }>()
  const issue = () => {
    const t = randomBytes(18).toString('base64url')
    live.add(t)
    return t
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(JSON.stringify(body))
      }
      if (req.method !== 'POST' || req.url !== '/token') return answer(404, { error: 'not_found' })
      if (req.headers.authorization !== basic) return answer(401, { error: 'invalid_client' })
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      if (form.get('grant_type') === 'authorization_code') {
        const code = form.get('code') ?? ''
        const minted = codes.get(code)
        codes.delete(code)
        const verifier = form.get('code_verifier')
        const challenge = verifier === null ? null : createHash('sha256').update(verifier).digest('base64url')
        if (!minted || form.get('redirect_uri') !== minted.redirectUri || challenge !== minted.challenge) {
          state.badCodes++
          return answer(400, { error: 'invalid_grant', error_description: 'unknown, used or mismatched code' })
        }
        state.codes++
        return answer(200, {
          access_token: minted.accessToken,
          token_type: 'Bearer',
          expires_in: options.accessTokenTtlSeconds ?? 3600,
          refresh_token: issue(),
          scope: minted.scope ?? 'openid profile',
        })
      }
      const rt = form.get('refresh_token')
      if (form.get('grant_type') !== 'refresh_token' || !rt) return answer(400, { error: 'unsupported_grant_type' })
      if (!live.delete(rt)) {
        state.reused++
        return answer(400, { error: 'invalid_grant', error_description: 'refresh token already used' })
      }
      state.refreshes++
      answer(200, {
        access_token: randomBytes(24).toString('base64url'),
        token_type: 'Bearer',
        expires_in: options.accessTokenTtlSeconds ?? 3600,
        refresh_token: issue(),
        scope: form.get('scope') ?? 'openid profile',
      })
    })
  })
  server.keepAliveTimeout = 60_000
  await listenOnFreePort(server)
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    get refreshes() {
      return state.refreshes
    },
    get reused() {
      return state.reused
    },
    issue,
    get codes() {
      return state.codes
    },
    get badCodes() {
      return state.badCodes
    },
    consent(authorizationUrl) {
      const q = new URL(authorizationUrl).searchParams
      const redirectUri = q.get('redirect_uri')
      if (!redirectUri || q.get('client_id') !== clientId || q.get('response_type') !== 'code')
        throw new Error(`not an authorization request for this endpoint: ${authorizationUrl}`)
      const code = randomBytes(18).toString('base64url')
      const accessToken = randomBytes(24).toString('base64url')
      codes.set(code, { redirectUri, challenge: q.get('code_challenge'), accessToken, scope: q.get('scope') })
      const callback = new URL(redirectUri)
      callback.searchParams.set('code', code)
      callback.searchParams.set('state', q.get('state') ?? '')
      return { callbackUrl: callback.toString(), accessToken }
    },
    entry(id) {
      return {
        id,
        description: 'Bench token endpoint',
        type: 'oauth2',
        client_id: clientId,
        client_secret: clientSecret,
        oauth2: {
          scope_delimiter: ' ',
          authorize_request: { endpoint: `${url}/authorize`, params: { response_type: 'code', client_id: '{{client_id}}' } },
          token_request: { endpoint: `${url}/token`, auth_method: 'client_secret_basic', params: { grant_type: 'authorization_code' } },
          refresh_request: {
            endpoint: `${url}/token`,
            auth_method: 'client_secret_basic',
            params: { grant_type: 'refresh_token', refresh_token: '{{refresh_token}}' },
          },
        },
      }
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
