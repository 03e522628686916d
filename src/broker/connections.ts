/**
 * @module broker/connections
 * Deleting a connection: revoke at the provider when it has a revocation endpoint, then delete
 * locally whatever the provider said (an unreachable provider must not keep a user connected).
 */
import type { ConnectionRow } from '../storage/store.js'
import { revokeToken } from '../oauth/revoke-token.js'
import type { BrokerContext } from './context.js'

export interface RevokeResult {
  deleted: boolean
  /** `revoked`, `not_supported` (no endpoint), `failed` (local delete still done) or `skipped`. */
  providerRevocation: 'revoked' | 'not_supported' | 'failed' | 'skipped'
}

export async function deleteConnection(ctx: BrokerContext, c: ConnectionRow, actor: string | null): Promise<RevokeResult> {
  let providerRevocation: RevokeResult['providerRevocation'] = 'skipped'
  const provider = ctx.registry.get(c.provider_id)
  if (provider) {
    try {
      const accessToken = ctx.vault.open({ table: 'connections', id: c.id, field: 'access_token' }, c.access_token_enc)
      const refreshToken = c.refresh_token_enc ? ctx.vault.open({ table: 'connections', id: c.id, field: 'refresh_token' }, c.refresh_token_enc) : undefined
      providerRevocation = (await revokeToken(provider, { accessToken, refreshToken }, ctx.http)) ? 'revoked' : 'not_supported'
    } catch (err) {
      providerRevocation = 'failed'
      ctx.log.warn(
        { connection: c.id, provider: c.provider_id, err: (err as Error).message },
        'revocation at the provider failed; the connection is deleted locally anyway and the user may still see the app as authorized at the provider',
      )
    }
  }
  const deleted = await ctx.store.deleteConnection(c.id)
  ctx.audit.record({ actor, action: 'connection.revoked', user_id: c.user_id, provider_id: c.provider_id, connection_id: c.id, detail: { provider_revocation: providerRevocation } })
  return { deleted, providerRevocation }
}
