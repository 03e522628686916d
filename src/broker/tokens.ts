/**
 * @module broker/tokens
 * Handing out an access token: refresh first when it expires within the margin, never serve a
 * token of a connection that needs re-authorization, keep serving a still-valid token through
 * transient provider failures, and record who got it.
 */
import { LatchkeyError } from '../errors.js'
import type { ConnectionRow } from '../storage/store.js'
import { isStoreUnavailable } from '../storage/unavailable.js'
import type { BrokerContext } from './context.js'
import { needsRefresh, refreshDue, stillValid } from './refresh-policy.js'
import type { RefreshOutcome } from './refresher.js'

export type HandOut =
  | { kind: 'token'; token: string; connection: ConnectionRow }
  | { kind: 'reauth_required'; connection: ConnectionRow | undefined }

/**
 * The token of an active connection that needs no refresh, recorded as handed out — without
 * I/O or a promise (the hot path). Undefined when the connection is not active or a refresh is
 * due: `handOutToken` then does the work.
 */
export function handOutNow(ctx: BrokerContext, c: ConnectionRow, actor: string | null): string | undefined {
  if (c.status !== 'active') return undefined
  const now = Date.now()
  return due(ctx, c, now) ? undefined : deliver(ctx, c, actor, now)
}

export async function handOutToken(ctx: BrokerContext, connection: ConnectionRow, actor: string | null): Promise<HandOut> {
  let c = connection
  if (c.status !== 'active') return { kind: 'reauth_required', connection: c }
  // During a known database outage a refresh cannot be stored: serve a still-valid token without
  // asking (a partitioned database would make every hand-out wait for the connect timeout).
  if (due(ctx, c, Date.now()) && !(ctx.store.unavailable && stillValid(c, Date.now()))) {
    let outcome: RefreshOutcome | { kind: 'transient-store' }
    try {
      outcome = await ctx.refresher.refresh(c.id, { actor })
    } catch (err) {
      // A database outage during the refresh: a still-valid token keeps being served (like a provider outage).
      if (!isStoreUnavailable(err) || (c.expires_at !== null && c.expires_at <= Date.now())) throw err
      outcome = { kind: 'transient-store' } as const
    }
    switch (outcome.kind) {
      case 'fresh': {
        c = outcome.connection
        // The token just sealed by this refresh: memoized for this row, so deliver() does not decrypt it.
        const fresh = outcome.accessToken
        if (fresh !== undefined) ctx.connectionCache.accessToken(c, () => fresh)
        break
      }
      case 'gone':
        return { kind: 'reauth_required', connection: undefined }
      case 'reauth_required':
        return { kind: 'reauth_required', connection: outcome.connection }
      case 'transient-store':
        break
      case 'misconfigured':
      case 'transient': {
        if (stillValid(c, Date.now())) break
        throw outcome.kind === 'misconfigured'
          ? new LatchkeyError(
              'PROVIDER_MISCONFIGURED',
              `${c.provider_id} rejected Latchkey's client credentials while refreshing (${outcome.error.error ?? outcome.error.message}); the operator must fix the provider configuration`,
            )
          : new LatchkeyError(
              'PROVIDER_UNAVAILABLE',
              `${c.provider_id} could not refresh the token right now (${outcome.error.message}); retry later`,
            )
      }
    }
  }
  return { kind: 'token', token: deliver(ctx, c, actor, Date.now()), connection: c }
}

function deliver(ctx: BrokerContext, c: ConnectionRow, actor: string | null, now: number): string {
  const token = ctx.connectionCache.accessToken(c, () => ctx.vault.accessToken(c))
  ctx.audit.record({ actor, action: 'token.issued', user_id: c.user_id, provider_id: c.provider_id, connection_id: c.id })
  ctx.lastUse.record(c.id, now)
  return token
}

/** `refreshDue`, with the margin test first: the hot path (a token far from expiry) stops there, before any registry lookup. */
function due(ctx: BrokerContext, c: ConnectionRow, now: number): boolean {
  const marginMs = ctx.config.refreshMarginSeconds * 1000
  return needsRefresh(c, now, marginMs) && refreshDue(c, ctx.registry.get(c.provider_id)?.refreshEnabled === true, now, marginMs)
}
