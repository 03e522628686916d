import { fileURLToPath } from 'node:url'
import type { BetterAuthArgs, BetterAuthInfo } from '../servers/better-auth.js'
import { type ChildServer, forkServer } from './child.js'
import type { TokenEndpoint } from './token-endpoint.js'

/**
 * better-auth (the peer row) in its own process, its provider pointed at `endpoint`, with one
 * account for `userId` holding a refresh token the endpoint issued; `due`: its access token expired.
 */
export function startBetterAuth(
  endpoint: TokenEndpoint,
  options: { providerId: string; apiKey: string; userId: string; due: boolean },
): Promise<ChildServer<BetterAuthInfo>> {
  const entry = endpoint.entry(options.providerId) as { client_id: string; client_secret: string }
  const args: BetterAuthArgs = {
    tokenUrl: `${endpoint.url}/token`,
    clientId: entry.client_id,
    clientSecret: entry.client_secret,
    providerId: options.providerId,
    apiKey: options.apiKey,
    user: { id: options.userId, refreshToken: endpoint.issue(), due: options.due },
  }
  return forkServer<BetterAuthInfo>(fileURLToPath(new URL('../servers/better-auth.ts', import.meta.url)), { args })
}
