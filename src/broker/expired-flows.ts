/**
 * @module broker/expired-flows
 * Pending flows whose link expired with nobody looking (no status poll, no new authorize): failed
 * as expired and announced once (`authorization.failed`, in the same transaction), counted, and
 * their waiters on any process woken. Flow lifecycle, so every process sweeps, whether or not it
 * delivers webhooks (server.ts, with the interrupted-callback sweep).
 */
import { EXPIRED_FLOW } from '../storage/store.js'
import type { WebhookStore } from '../storage/webhook-store.js'
import type { BrokerContext } from './context.js'
import { flowFailedEvent } from './webhook-events.js'

const BATCH = 500

/** Fails and announces every expired pending flow; returns how many. */
export async function sweepExpiredFlows(ctx: BrokerContext, store: WebhookStore, now = Date.now()): Promise<number> {
  let total = 0
  for (;;) {
    const failed = await store.failExpiredFlows(now, BATCH, EXPIRED_FLOW, (f) => [
      flowFailedEvent(f, EXPIRED_FLOW.error, EXPIRED_FLOW.error_description, now),
    ])
    for (const f of failed) {
      ctx.metrics.flowFailed(f.provider_id, EXPIRED_FLOW.error)
      await ctx.store.publish({ channel: 'flow', id: f.id })
    }
    total += failed.length
    if (failed.length < BATCH) return total
  }
}
