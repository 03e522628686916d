/**
 * @module broker/mark-invalid
 * The app tells Latchkey a credential no longer works (the service answered 401 with it, a key
 * was rotated elsewhere): the connection becomes `reauth_required`, so authorize and status stop
 * handing it out and the next authorize starts a flow whose grant replaces it (for an API key,
 * the person enters the new one on Latchkey's page). Webhooks get `connection.reauth_required`
 * with `reason: marked_invalid`.
 */
import { LatchkeyError } from '../errors.js'
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { reauthRequiredEvent } from './webhook-events.js'

export async function markConnectionInvalid(
  ctx: BrokerContext,
  userId: string,
  connectionId: string,
  actor: string | null,
): Promise<ConnectionRow> {
  const c = await ctx.store.getConnectionById(connectionId)
  // Another user's connection is answered like a missing one.
  if (!c || c.user_id !== userId)
    throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection ${JSON.stringify(connectionId)} of this user`)
  if (c.status !== 'active') return c
  // Under the connection's lock, so a refresh or grant landing meanwhile is not overwritten; the
  // webhook event is written in the same transaction as the status.
  const marked = await ctx.store.withRefreshLock(c.id, async (locked) => {
    const current = locked.current
    if (current?.status !== 'active') return current
    const now = Date.now()
    const wrote = await locked.update({ status: 'reauth_required', last_refresh_error: 'marked invalid by the app', updated_at: now }, [
      reauthRequiredEvent(current, 'marked_invalid', null, now),
    ])
    if (!wrote) return (await ctx.store.getConnectionById(c.id)) ?? current
    ctx.audit.record({
      actor,
      action: 'connection.reauth_required',
      user_id: current.user_id,
      provider_id: current.provider_id,
      connection_id: current.id,
      detail: { reason: 'marked_invalid' },
    })
    return { ...current, status: 'reauth_required' as const }
  })
  if (!marked) throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection ${JSON.stringify(connectionId)} of this user`)
  return marked
}
