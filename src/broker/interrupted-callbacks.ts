/**
 * @module broker/interrupted-callbacks
 * A flow whose callback was consumed by a process that then died (crash, SIGKILL, OOM) in the
 * middle of the code exchange stays `pending` with its state used: the link and the callback
 * answer "already used", and the app's wait would hang until the flow's TTL. Once the exchange's
 * deadline has passed (two provider calls, token and user info, each bounded by the outbound
 * timeout, plus a margin for the database writes), no live process can still be finishing it,
 * so any process may settle it: failed with `callback_interrupted`, waiters woken at once, so the
 * app gets an answer and can start again.
 *
 * Settled by a status read or long-poll of such a flow (`flows.ts`) and by a periodic sweep
 * (`server.ts`). A flow held for `confirm_user` (custom verification: the grant is stored) is not
 * interrupted: its exchange finished.
 */

import { FLOW_FAILURE_CODES } from '@latchkey/client'
import type { FlowRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { flowFailedEvent } from './webhook-events.js'

/** The flow failure code (Arcade's `error.code` on a failed status) of a flow settled here. */
export const CALLBACK_INTERRUPTED = FLOW_FAILURE_CODES.CALLBACK_INTERRUPTED

const DESCRIPTION = 'the sign-in was interrupted while Latchkey completed it (the server handling it stopped); start again from the app'

/** How long after a callback was consumed its exchange may still legitimately be running. */
export function callbackDeadlineMs(ctx: Pick<BrokerContext, 'config'>): number {
  return 2 * ctx.config.providerTimeoutMs + 5_000
}

/** When an in-progress callback of this flow counts as interrupted; undefined when none is in progress. */
export function interruptedAt(ctx: Pick<BrokerContext, 'config'>, flow: FlowRow): number | undefined {
  if (flow.status !== 'pending' || flow.callback_at === null || flow.grant_enc !== null) return undefined
  return flow.callback_at + callbackDeadlineMs(ctx)
}

/** Fails the flow if its callback was interrupted; returns the flow as it now stands. */
export async function settleIfInterrupted(ctx: BrokerContext, flow: FlowRow, now = Date.now()): Promise<FlowRow> {
  const at = interruptedAt(ctx, flow)
  if (at === undefined || at > now) return flow
  const patch = { status: 'failed', error: CALLBACK_INTERRUPTED, error_description: DESCRIPTION } as const
  // Only a flow still pending is written (a completion that landed meanwhile wins).
  if (await ctx.store.updateFlow(flow.id, patch, [flowFailedEvent(flow, CALLBACK_INTERRUPTED, DESCRIPTION)])) announce(ctx, flow)
  return (await ctx.store.getFlow(flow.id)) ?? { ...flow, ...patch }
}

/** The periodic sweep: settles every interrupted callback, for flows nobody is polling. */
export async function sweepInterruptedCallbacks(ctx: BrokerContext, now = Date.now()): Promise<number> {
  const flows = await ctx.store.failInterruptedCallbacks(
    now - callbackDeadlineMs(ctx),
    { error: CALLBACK_INTERRUPTED, error_description: DESCRIPTION },
    (flow) => [flowFailedEvent(flow, CALLBACK_INTERRUPTED, DESCRIPTION)],
  )
  for (const flow of flows) announce(ctx, flow)
  return flows.length
}

/** Logs and audits a settled flow; the store has published its change (waking every waiter). */
function announce(ctx: BrokerContext, flow: Pick<FlowRow, 'id' | 'user_id' | 'provider_id'>): void {
  ctx.log.warn(
    { flow: flow.id, provider: flow.provider_id },
    'authorization callback was interrupted (its process stopped during the code exchange); flow failed',
  )
  ctx.audit.record({
    actor: null,
    action: 'flow.failed',
    user_id: flow.user_id,
    provider_id: flow.provider_id,
    detail: { flow_id: flow.id, error: CALLBACK_INTERRUPTED },
  })
}
