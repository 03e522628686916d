/**
 * A real OAuth 2.0 / OIDC server (oidc-provider) on 127.0.0.1 with a random port, for end-to-end
 * tests. It counts token-endpoint grants by type, and can be slowed down or failed on demand.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createDemoIdp, type DemoIdp } from '../../src/demo/demo-idp.js'
import { listenOnFreePort } from './ports.js'

export interface TestIdp {
  issuer: string
  clientId: string
  clientSecret: string
  idp: DemoIdp
  /** Token endpoint requests by grant type (successful or not); forced failures under `failed`. */
  tokenCalls: Map<string, number>
  /** Token endpoint requests received (counted on arrival, before any delay). */
  tokenRequestsReceived: number
  /** Delay (ms) applied to token requests before they are handled. */
  tokenDelayMs: number
  /** When set, token requests are answered with this HTTP status and an error body. */
  failTokenWith: { status: number; error: string } | undefined
  /** Arcade-style provider entry for latchkey.yaml / providerEntries. */
  entry(id?: string): Record<string, unknown>
  close(): Promise<void>
}

export async function startTestIdp(options: {
  redirectUri: string | string[]
  accessTokenTtlSeconds?: number
  rotateRefreshToken?: boolean
  scopes?: string[]
}): Promise<TestIdp> {
  let handler: DemoIdp['handler'] = () => {}
  const state = { tokenDelayMs: 0, failTokenWith: undefined as TestIdp['failTokenWith'], received: 0 }
  const tokenCalls = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/token') && !req.url.startsWith('/token/')) {
      state.received++
      const go = () => {
        if (state.failTokenWith) {
          tokenCalls.set('failed', (tokenCalls.get('failed') ?? 0) + 1)
          req.resume()
          res.writeHead(state.failTokenWith.status, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ error: state.failTokenWith.error, error_description: 'test failure' }))
          return
        }
        handler(req, res)
      }
      // The body stays unread (buffered by Node) while we wait.
      if (state.tokenDelayMs > 0) setTimeout(go, state.tokenDelayMs)
      else go()
      return
    }
    handler(req, res)
  })
  await listenOnFreePort(server)
  const port = (server.address() as AddressInfo).port
  const issuer = `http://127.0.0.1:${port}`
  const clientId = 'latchkey-test'
  const clientSecret = `test-secret-${Math.random().toString(36).slice(2)}`
  const idp = createDemoIdp({
    issuer,
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [options.redirectUri].flat() }],
    ...(options.accessTokenTtlSeconds !== undefined ? { accessTokenTtlSeconds: options.accessTokenTtlSeconds } : {}),
    ...(options.rotateRefreshToken !== undefined ? { rotateRefreshToken: options.rotateRefreshToken } : {}),
    ...(options.scopes ? { scopes: options.scopes } : {}),
  })
  handler = idp.handler
  // Every token request oidc-provider handles, successful or not, by grant type.
  const count = (ctx: { oidc?: { params?: Record<string, unknown> | undefined } }) => {
    const grant = String(ctx.oidc?.params?.['grant_type'] ?? 'unknown')
    tokenCalls.set(grant, (tokenCalls.get(grant) ?? 0) + 1)
  }
  idp.provider.on('grant.success', count)
  idp.provider.on('grant.error', count)
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const result: TestIdp = {
    issuer,
    clientId,
    clientSecret,
    idp,
    tokenCalls,
    get tokenRequestsReceived() {
      return state.received
    },
    get tokenDelayMs() {
      return state.tokenDelayMs
    },
    set tokenDelayMs(v) {
      state.tokenDelayMs = v
    },
    get failTokenWith() {
      return state.failTokenWith
    },
    set failTokenWith(v) {
      state.failTokenWith = v
    },
    entry(id = 'test-idp') {
      return {
        id,
        description: 'Test OIDC server',
        type: 'oauth2',
        client_id: clientId,
        client_secret: clientSecret,
        oauth2: {
          scope_delimiter: ' ',
          pkce: { enabled: true, code_challenge_method: 'S256' },
          authorize_request: {
            endpoint: `${issuer}/auth`,
            params: {
              response_type: 'code',
              client_id: '{{client_id}}',
              redirect_uri: '{{redirect_uri}}',
              scope: '{{scopes}} {{existing_scopes}}',
              prompt: 'consent',
            },
          },
          token_request: {
            endpoint: `${issuer}/token`,
            auth_method: 'client_secret_basic',
            params: { grant_type: 'authorization_code', redirect_uri: '{{redirect_uri}}' },
          },
          refresh_request: {
            endpoint: `${issuer}/token`,
            auth_method: 'client_secret_basic',
            params: { grant_type: 'refresh_token', refresh_token: '{{refresh_token}}' },
          },
          user_info_request: {
            endpoint: `${issuer}/me`,
            auth_method: 'bearer_access_token',
            triggers: { on_token_grant: true, on_token_refresh: false },
          },
          revoke_request: { endpoint: `${issuer}/token/revocation` },
        },
      }
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return result
}
