/**
 * A Latchkey process with one real connection: starts the test IdP (oidc-provider, in this
 * process; idle while load runs), forks Latchkey on a temp SQLite file, and connects a user
 * through the real flow — authorize → a scripted browser signs in and consents → callback —
 * so the stored token is one the IdP issued and accepts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Keyring } from '../../src/crypto/keyring.js'
import { TestBrowser } from '../../test/helpers/browser.js'
import { startTestIdp, type TestIdp } from '../../test/helpers/oidc-server.js'
import { freePort } from '../../test/helpers/ports.js'
import type { LatchkeyArgs, LatchkeyInfo } from '../servers/latchkey.js'
import { type ChildServer, forkServer } from './child.js'

const LATCHKEY_ENTRY = fileURLToPath(new URL('../servers/latchkey.ts', import.meta.url))

export interface ConnectedLatchkey extends LatchkeyInfo {
  idp: TestIdp
  pid: number
  providerId: string
  userId: string
  scopes: string[]
  /** The access token the flow produced (checked at the IdP's userinfo endpoint). */
  token: string
  /** Where its data lives and the keys it encrypts with (to seed more connections). */
  databaseUrl: string
  encryptionKeys: string
  /** The child process (for profiling). */
  server: ChildServer<LatchkeyInfo>
  /** `POST /v1/auth/authorize` exactly as Arcade's SDKs send it (`client.auth.start(...)`). */
  authorizeRequest(): { url: string; method: 'POST'; headers: Record<string, string>; body: string }
  stop(): Promise<void>
}

export interface ConnectedLatchkeyOptions {
  userId?: string
  scopes?: string[]
  idp?: { accessTokenTtlSeconds?: number; rotateRefreshToken?: boolean; scopes?: string[] }
  /** Extra LATCHKEY_* environment for the server. */
  env?: Record<string, string>
  /** A PostgreSQL URL (or SQLite file) instead of a temp SQLite file. */
  databaseUrl?: string
  /** The provider's `api_base_urls`, for the proxy (`/v1/proxy/test-idp/…`). */
  apiBaseUrls?: string[]
  /** More provider entries besides the test IdP (e.g. the bench token endpoint). */
  providers?: Array<Record<string, unknown>>
  /** Run this build's `dist/` directory instead of the worktree's (a before/after comparison). */
  dist?: string
}

export async function startConnectedLatchkey(options: ConnectedLatchkeyOptions = {}): Promise<ConnectedLatchkey> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'))
  const port = await freePort()
  const idp = await startTestIdp({ redirectUri: `http://127.0.0.1:${port}/oauth/callback`, ...options.idp })
  const args: LatchkeyArgs = {
    port,
    databaseFile: options.databaseUrl ?? join(dir, 'latchkey.db'),
    encryptionKeys: `1:${Keyring.generateKey()}`,
    providerEntries: [
      { ...idp.entry('test-idp'), ...(options.apiBaseUrls ? { api_base_urls: options.apiBaseUrls } : {}) },
      ...(options.providers ?? []),
    ],
    env: {
      // The default (6000/min per key) would turn most of a load test into 429s. A huge limit
      // keeps the limiter on the path without it ever tripping.
      LATCHKEY_RATE_LIMIT_PER_MINUTE: '1000000000',
      ...options.env,
    },
  }
  let child: ChildServer<LatchkeyInfo>
  try {
    child = await forkServer<LatchkeyInfo>(LATCHKEY_ENTRY, {
      args,
      ...(options.dist ? { env: { BENCH_LATCHKEY_DIST: options.dist } } : {}),
    })
  } catch (err) {
    await idp.close()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const stop = async () => {
    await child.stop()
    await idp.close()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const userId = options.userId ?? 'bench-user@example.com'
    const scopes = options.scopes ?? ['openid', 'profile']
    const providerId = 'test-idp'
    const { url, runtimeKey } = child.info
    const authorizeRequest = () => ({
      url: `${url}/v1/auth/authorize`,
      method: 'POST' as const,
      headers: { authorization: runtimeKey, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ auth_requirement: { provider_id: providerId, provider_type: 'oauth2', oauth2: { scopes } }, user_id: userId }),
    })
    const call = async (path: string, init?: RequestInit) => {
      const r = await fetch(`${url}${path}`, {
        ...init,
        headers: { authorization: runtimeKey, 'content-type': 'application/json', ...init?.headers },
      })
      const body = (await r.json()) as { status?: string; id?: string; url?: string; context?: { token?: string } }
      if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${JSON.stringify(body)}`)
      return body
    }
    const req = authorizeRequest()
    const started = await call('/v1/auth/authorize', { method: 'POST', body: req.body })
    if (started.status !== 'pending' || !started.url || !started.id)
      throw new Error(`expected a pending authorization, got ${JSON.stringify(started)}`)
    const page = await new TestBrowser().authorize(started.url, { login: 'bench-user' })
    if (page.status !== 200) throw new Error(`consent did not finish: HTTP ${page.status} at ${page.url}`)
    const done = await call(`/v1/auth/status?id=${started.id}&wait=10`)
    const token = done.context?.token
    if (done.status !== 'completed' || !token) throw new Error(`expected completed, got ${JSON.stringify(done)}`)
    const me = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })
    if (me.status !== 200) throw new Error(`the IdP rejected the token Latchkey handed out: HTTP ${me.status}`)
    const again = await call('/v1/auth/authorize', { method: 'POST', body: req.body })
    if (again.status !== 'completed' || again.context?.token !== token)
      throw new Error(`the hot path did not answer completed: ${JSON.stringify(again)}`)
    return {
      ...child.info,
      idp,
      pid: child.pid,
      providerId,
      userId,
      scopes,
      token,
      server: child,
      databaseUrl: args.databaseFile,
      encryptionKeys: args.encryptionKeys,
      authorizeRequest,
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
