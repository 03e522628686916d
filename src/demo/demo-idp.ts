/**
 * @module demo/demo-idp
 * A real OAuth 2.0 / OpenID Connect server (panva's oidc-provider) for trying Latchkey with no
 * third-party credentials, and for tests. Its sign-in page accepts any login and password.
 * Its sign-in, consent and error pages are ours (`demo-pages.ts`). Development only: keys, sessions and grants live in memory and vanish on restart.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Provider from 'oidc-provider'
import { demoPages, renderDemoError } from './demo-pages.js'

export interface DemoIdpOptions {
  /** Issuer URL, including the mount path when mounted (e.g. `http://localhost:9099/demo-idp`). */
  issuer: string
  clients: Array<{ client_id: string; client_secret: string; redirect_uris: string[] }>
  accessTokenTtlSeconds?: number
  refreshTokenTtlSeconds?: number
  /** Issue a new refresh token on every refresh (and invalidate the old one). */
  rotateRefreshToken?: boolean
  /** Extra scopes the server knows besides openid, profile, email, offline_access. */
  scopes?: string[]
}

export interface DemoIdp {
  provider: Provider
  handler: (req: IncomingMessage, res: ServerResponse) => void
  /** Token endpoint grants by type (`authorization_code`, `refresh_token`). */
  grants: Map<string, number>
}

/**
 * oidc-provider's own memory adapter keeps at most 1000 entries in one LRU shared by every
 * provider in the process: a few hundred sign-ins evict older grants and refresh tokens. This
 * one is per server, unbounded, and drops entries when they expire.
 */
function memoryAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>()
  const grants = new Map<string, Set<string>>()
  const live = (key: string) => {
    const e = store.get(key)
    if (e && e.expiresAt <= Date.now()) {
      store.delete(key)
      return undefined
    }
    return e
  }
  return class MemoryAdapter {
    constructor(readonly name: string) {}
    key(id: string) {
      return `${this.name}:${id}`
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const key = this.key(id)
      store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity })
      const grantId = payload['grantId']
      if (typeof grantId === 'string') {
        if (!grants.has(grantId)) grants.set(grantId, new Set())
        grants.get(grantId)!.add(key)
      }
    }
    async find(id: string) {
      return live(this.key(id))?.payload
    }
    async findByUid(uid: string) {
      for (const [key, e] of store) if (key.startsWith(`${this.name}:`) && e.payload['uid'] === uid && live(key)) return e.payload
      return undefined
    }
    async findByUserCode(userCode: string) {
      for (const [key, e] of store) if (key.startsWith(`${this.name}:`) && e.payload['userCode'] === userCode && live(key)) return e.payload
      return undefined
    }
    async consume(id: string) {
      const e = live(this.key(id))
      if (e) e.payload['consumed'] = Math.floor(Date.now() / 1000)
    }
    async destroy(id: string) {
      store.delete(this.key(id))
    }
    async revokeByGrantId(grantId: string) {
      for (const key of grants.get(grantId) ?? []) store.delete(key)
      grants.delete(grantId)
    }
  }
}

export const DEMO_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'demo.read', 'demo.write']

export function createDemoIdp(options: DemoIdpOptions): DemoIdp {
  const mountPath = new URL(options.issuer).pathname.replace(/\/+$/, '')
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256', kid: randomBytes(8).toString('hex') }
  const provider = new Provider(options.issuer, {
    clients: options.clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    })),
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub, name: sub, email: `${sub}@example.test`, email_verified: true }) }
    },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    scopes: [...new Set([...DEMO_SCOPES, ...(options.scopes ?? [])])],
    // Our own sign-in and consent pages (demo-pages.ts), not oidc-provider's development ones.
    // No RP-initiated logout: nothing uses it, and its pages would be oidc-provider's own.
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => renderDemoError(ctx as never, out as unknown as Record<string, unknown>),
    jwks: { keys: [jwk as never] },
    adapter: memoryAdapter() as never,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 3600,
      RefreshToken: options.refreshTokenTtlSeconds ?? 14 * 86_400,
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: 86_400,
      Grant: 14 * 86_400,
      IdToken: 3600,
    },
    rotateRefreshToken: options.rotateRefreshToken ?? false,
    // Issue refresh tokens for every code grant of a client allowed to refresh (by default
    // oidc-provider wants `offline_access` plus prompt=consent for them).
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token')
    },
  })
  const grants = new Map<string, number>()
  provider.on('grant.success', (ctx) => {
    const type = String(ctx.oidc.params?.['grant_type'] ?? 'unknown')
    grants.set(type, (grants.get(type) ?? 0) + 1)
  })
  const callback = provider.callback() as DemoIdp['handler']
  const pages = demoPages(
    provider,
    mountPath,
    options.clients.flatMap((c) => c.redirect_uris.map((u) => new URL(u).origin)),
  )
  const handler: DemoIdp['handler'] = (req, res) => {
    if (!pages.handle(req, res)) callback(req, res)
  }
  return { provider, handler, grants }
}
