/**
 * @module broker/mark-invalid
 * The app tells Latchkey a credential no longer works (the service answered 401 with it, a key
 * was rotated elsewhere): the connection becomes `reauth_required`, so authorize and status stop
 * handing it out and the next authorize starts a flow whose grant replaces it (for an API key,
 * the person enters the new one on Latchkey's page).
 */
import { LatchkeyError } from '../errors.js'
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'

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
  if (c.status === 'active') {
    await ctx.store.updateConnection(c.id, {
      status: 'reauth_required',
      last_refresh_error: 'marked invalid by the app',
      updated_at: Date.now(),
    })
    ctx.audit.record({
      actor,
      action: 'connection.reauth_required',
      user_id: c.user_id,
      provider_id: c.provider_id,
      connection_id: c.id,
      detail: { reason: 'marked_invalid' },
    })
  }
  return { ...c, status: c.status === 'active' ? 'reauth_required' : c.status }
}
