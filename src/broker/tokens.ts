/**
 * @module broker/tokens
 * Handing out an access token: refresh first when it expires within the margin, never serve a
 * token of a connection that needs re-authorization, keep serving a still-valid token through
 * transient provider failures, and record who got it.
 */
import { LatchkeyError } from '../errors.js'
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { needsRefresh } from './refresher.js'

export type HandOut = { kind: 'token'; token: string; connection: ConnectionRow } | { kind: 'reauth_required'; connection: ConnectionRow | undefined }

export async function handOutToken(ctx: BrokerContext, connection: ConnectionRow, actor: string | null): Promise<HandOut> {
  let c = connection
  if (c.status !== 'active') return { kind: 'reauth_required', connection: c }
  const now = Date.now()
  const stillValid = c.expires_at === null || c.expires_at > now
  // Inside the margin but nothing to do (no refresh token, refresh off, cooling down after a
  // failure) while the token is still valid: serve it without taking the refresh lock.
  const canRefresh = c.refresh_token_enc !== null && ctx.registry.get(c.provider_id)?.refreshEnabled === true && !(c.refresh_cooldown_until !== null && c.refresh_cooldown_until > now)
  if (needsRefresh(c, now, ctx.config.refreshMarginSeconds * 1000) && (canRefresh || !stillValid)) {
    const outcome = await ctx.refresher.refresh(c.id, { actor })
    switch (outcome.kind) {
      case 'fresh':
        c = outcome.connection
        break
      case 'gone':
        return { kind: 'reauth_required', connection: undefined }
      case 'reauth_required':
        return { kind: 'reauth_required', connection: outcome.connection }
      case 'misconfigured':
      case 'transient': {
        const stillValid = c.expires_at === null || c.expires_at > Date.now()
        if (stillValid) break
        throw outcome.kind === 'misconfigured'
          ? new LatchkeyError('PROVIDER_MISCONFIGURED', `${c.provider_id} rejected Latchkey's client credentials while refreshing (${outcome.error.error ?? outcome.error.message}); the operator must fix the provider configuration`)
          : new LatchkeyError('PROVIDER_UNAVAILABLE', `${c.provider_id} could not refresh the token right now (${outcome.error.message}); retry later`)
      }
    }
  }
  const token = ctx.connections.accessToken(c, () => ctx.vault.open({ table: 'connections', id: c.id, field: 'access_token' }, c.access_token_enc))
  ctx.audit.record({ actor, action: 'token.issued', user_id: c.user_id, provider_id: c.provider_id, connection_id: c.id })
  if (ctx.connections.dueForTouch(c.id, now)) {
    ctx.store.updateConnection(c.id, { last_used_at: now }).catch((err: unknown) => ctx.log.warn({ err }, 'could not record last use'))
  }
  return { kind: 'token', token, connection: c }
}
