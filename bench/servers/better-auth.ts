/**
 * Peer: better-auth (devDependency, pinned) on a SQLite file through better-sqlite3, in its own
 * process, tokens encrypted at rest (`account.encryptOAuthTokens`, as Latchkey's always are).
 * One node:http server: `/api/auth/*` goes to better-auth's documented Node handler
 * (`toNodeHandler`); `POST /v1/auth/authorize` is the byte-identical request Latchkey gets, answered
 * with the in-process `auth.api.getAccessToken` (refreshes when the token is due) after the same
 * API-key check. The provider is the `genericOAuth` plugin pointed at `lib/token-endpoint.ts`.
 *
 * The account is seeded through better-auth's own adapter (`internalAdapter.createUser` /
 * `createAccount`) with tokens encrypted by `symmetricEncrypt` under its secret — what its OAuth
 * callback stores with `encryptOAuthTokens` on.
 */
import { timingSafeEqual } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { betterAuth } from 'better-auth'
import { symmetricEncrypt } from 'better-auth/crypto'
import { getMigrations } from 'better-auth/db/migration'
import { toNodeHandler } from 'better-auth/node'
import { genericOAuth } from 'better-auth/plugins/generic-oauth'
import Database from 'better-sqlite3'
import { listenOnFreePort } from '../../test/helpers/ports.js'
import { childArgs, serveChild } from '../lib/child.js'

export interface BetterAuthArgs {
  tokenUrl: string
  clientId: string
  clientSecret: string
  providerId: string
  apiKey: string
  /** The request's `user_id`, the refresh token the endpoint issued for it, and whether it is due. */
  user: { id: string; refreshToken: string; due: boolean }
}

export interface BetterAuthInfo {
  url: string
}

serveChild<BetterAuthInfo>(async () => {
  const args = childArgs<BetterAuthArgs>()
  const dir = mkdtempSync(join(tmpdir(), 'better-auth-bench-'))
  const sqlite = new Database(join(dir, 'auth.sqlite'))
  sqlite.pragma('journal_mode = WAL')
  const server = createServer()
  await listenOnFreePort(server)
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  const options = {
    database: sqlite,
    baseURL: url,
    secret: 'bench-secret-bench-secret-bench-secret-0123456789',
    telemetry: { enabled: false },
    logger: { level: 'error' as const },
    account: { encryptOAuthTokens: true },
    plugins: [
      genericOAuth({
        config: [
          {
            providerId: args.providerId,
            clientId: args.clientId,
            clientSecret: args.clientSecret,
            authorizationUrl: `${args.tokenUrl.replace(/\/token$/, '')}/authorize`,
            tokenUrl: args.tokenUrl,
            authentication: 'basic' as const,
          },
        ],
      }),
    ],
  }
  const { runMigrations } = await getMigrations(options)
  await runMigrations()
  const auth = betterAuth(options)
  const ctx = await auth.$context
  const key = { key: ctx.secretConfig } as Parameters<typeof symmetricEncrypt>[0]
  const user = await ctx.internalAdapter.createUser({ email: args.user.id, name: 'Bench', emailVerified: true }, { method: 'admin' })
  const now = Date.now()
  const account = await ctx.internalAdapter.createAccount({
    userId: user.id,
    providerId: args.providerId,
    accountId: `sub-${args.user.id}`,
    accessToken: await symmetricEncrypt({ ...key, data: 'seeded-access-token' }),
    refreshToken: await symmetricEncrypt({ ...key, data: args.user.refreshToken }),
    accessTokenExpiresAt: new Date(args.user.due ? now - 1000 : now + 86_400_000),
    scope: 'openid profile',
  })
  const ids = new Map([[args.user.id, { userId: user.id, accountId: account.id }]])
  const expectedKey = Buffer.from(args.apiKey)
  const node = toNodeHandler(auth)
  let lastServed = ''

  server.on('request', (req, res) => {
    if (req.url?.startsWith('/api/auth/')) return void node(req, res)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        const text = JSON.stringify(body)
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
        res.end(text)
      }
      if (req.method !== 'POST' || req.url !== '/v1/auth/authorize') return answer(404, { name: 'not_found', message: 'no route' })
      const presented = Buffer.from(req.headers.authorization ?? '')
      if (presented.length !== expectedKey.length || !timingSafeEqual(presented, expectedKey)) {
        return answer(401, { name: 'unauthorized', message: 'bad key' })
      }
      let body: { user_id?: string }
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { user_id?: string }
      } catch {
        return answer(400, { name: 'bad_request', message: 'bad JSON' })
      }
      const who = body.user_id === undefined ? undefined : ids.get(body.user_id)
      if (!who) return answer(400, { name: 'bad_request', message: 'unknown user' })
      auth.api.getAccessToken({ body: { accountId: who.accountId, userId: who.userId } }).then(
        (t) => {
          lastServed = t.accessToken
          answer(200, { id: who.accountId, status: 'completed', context: { token: t.accessToken } })
        },
        (e: unknown) => answer(400, { name: 'token_error', message: e instanceof Error ? e.message : String(e) }),
      )
    })
  })
  const stored = sqlite.prepare('SELECT accessToken, refreshToken FROM account WHERE id = ?')
  return {
    info: { url },
    // Encrypted at rest: the stored access token is not the one last handed out.
    stats: () => {
      const row = stored.get(account.id) as { accessToken: string; refreshToken: string }
      return { accessTokenPlaintextAtRest: lastServed !== '' && row.accessToken === lastServed ? 1 : 0 }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          sqlite.close()
          resolve()
        })
      }),
  }
})
