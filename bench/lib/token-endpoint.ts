/**
 * A minimal OAuth token endpoint on loopback, for measuring Latchkey's refresh path without an
 * authorization server's own cost in the figure (oidc-provider spends more CPU per refresh grant
 * than Latchkey does). It answers the refresh-token grant (RFC 6749 §6) with a new access token
 * and a ROTATED refresh token: each refresh token it issued works exactly once, a second use is
 * counted as a reuse and answered `invalid_grant`. Client authentication is HTTP Basic.
 */
import { randomBytes } from 'node:crypto'
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
  const state = { refreshes: 0, reused: 0 }
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
    entry(id) {
      return {
        id,
        description: 'Bench token endpoint (refresh only)',
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
