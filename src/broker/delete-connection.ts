/**
 * @module broker/delete-connection
 * Deleting a connection: revoke at the provider when it has a revocation endpoint (for an MCP
 * server: its authorization server's discovered one), then delete locally whatever the provider
 * said (an unreachable provider must not keep a user connected).
 */

import { revokeToken } from '../oauth/revoke-token.js'
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { deletedEvent } from './webhook-events.js'

export interface RevokeResult {
  deleted: boolean
  /** `revoked`, `not_supported` (no endpoint), `failed` (local delete still done) or `skipped`. */
  providerRevocation: 'revoked' | 'not_supported' | 'failed' | 'skipped'
}

/**
 * Runs under the connection's refresh lock: a refresh in flight (on any process) finishes first,
 * so the tokens revoked are the ones stored at that moment — not ones a concurrent refresh had
 * just replaced, which would stay valid at the provider — and no refresh queued behind the
 * delete can write the row back. The row is deleted only as it was read; when a grant or refresh
 * wrote it meanwhile (SQLite's lease does not hold off a new grant, and can lapse during a slow
 * revocation), the new tokens are revoked in turn.
 */
export async function deleteConnection(ctx: BrokerContext, c: ConnectionRow, actor: string | null): Promise<RevokeResult> {
  let result: RevokeResult & { stale?: boolean } = { deleted: false, providerRevocation: 'skipped' }
  for (let attempt = 0; attempt < 3; attempt++) {
    result = await ctx.store.withRefreshLock(c.id, async (locked) => {
      const current = locked.current
      if (!current) return { deleted: false, providerRevocation: 'skipped' as const }
      const providerRevocation = await revokeAtProvider(ctx, current)
      const deleted = await locked.delete([deletedEvent(current, providerRevocation)])
      return { deleted, providerRevocation, stale: !deleted }
    })
    if (!result.stale) break
  }
  if (result.stale) {
    // Rewritten three times while we revoked: delete what is there now; its tokens may stay valid at the provider.
    ctx.log.warn({ connection: c.id }, 'connection kept changing while it was being deleted; deleted without revoking its latest tokens')
    result = { deleted: await ctx.store.deleteConnection(c.id, [deletedEvent(c, 'failed')]), providerRevocation: 'failed' }
  }
  if (result.deleted) {
    ctx.audit.record({
      actor,
      action: 'connection.revoked',
      user_id: c.user_id,
      provider_id: c.provider_id,
      connection_id: c.id,
      detail: { provider_revocation: result.providerRevocation },
    })
  }
  return { deleted: result.deleted, providerRevocation: result.providerRevocation }
}

async function revokeAtProvider(ctx: BrokerContext, current: ConnectionRow): Promise<RevokeResult['providerRevocation']> {
  const provider = ctx.registry.get(current.provider_id)
  if (!provider) return 'skipped'
  try {
    const tokens = { accessToken: ctx.vault.accessToken(current), refreshToken: ctx.vault.refreshToken(current) }
    // An MCP server's endpoints and our client there come from discovery, not from the provider entry.
    const revoked = provider.mcp ? await ctx.mcp.revoke(provider, current.id, tokens) : await revokeToken(provider, tokens, ctx.http)
    return revoked ? 'revoked' : 'not_supported'
  } catch (err) {
    ctx.log.warn(
      { connection: current.id, provider: current.provider_id, err: (err as Error).message },
      'revocation at the provider failed; the connection is deleted locally anyway and the user may still see the app as authorized at the provider',
    )
    return 'failed'
  }
}
