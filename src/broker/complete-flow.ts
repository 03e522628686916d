/**
 * @module broker/complete-flow
 * The two ends of a flow: a grant stored as the user's connection (the callback, or
 * `confirm_user` in custom verification), or a failure the app is told about.
 */

import { FLOW_FAILURE_CODES, type FlowFailureCode } from '@latchkey/client'
import { randomId } from '../crypto/api-keys.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import type { FlowRow } from '../storage/store.js'
import { type BrowserOutcome, finalOutcome } from './browser-outcomes.js'
import type { BrokerContext } from './context.js'
import { CONNECTION_ID_PREFIX } from './flows.js'
import { connectionFromGrant, type Grant } from './grant.js'
import { flowFailedEvent, grantEvents } from './webhook-events.js'

/** The scopes granted before that the flow asks for again (its scopes beyond the requested ones). */
export const existingScopes = (flow: FlowRow) => flow.scopes.filter((s) => !flow.requested_scopes.includes(s))

export async function storeGrant(ctx: BrokerContext, provider: ConfiguredProvider, flow: FlowRow, grant: Grant): Promise<void> {
  const now = Date.now()
  const newId = `${CONNECTION_ID_PREFIX}${randomId(24)}`
  let replaced = false
  // The store settles the id (an existing connection keeps its own) before anything is encrypted.
  // Which connection the grant writes: that of the same provider account, else the flow's target
  // (an account selector) or, without a selector, the default (see Store.completeFlowWithConnection).
  const key = {
    user_id: flow.user_id,
    provider_id: flow.provider_id,
    account_id: grant.info?.accountId ?? null,
    connection_id: flow.connection_target,
    make_default: flow.account_hint === null && flow.connection_target === null,
  }
  const stored = await ctx.store.completeFlowWithConnection(
    flow.id,
    key,
    (existing) => {
      replaced = existing !== undefined
      return connectionFromGrant(existing?.id ?? newId, flow, existing, grant, provider.def, now, ctx.vault)
    },
    (row, existing) => grantEvents(flow, row, existing, now),
  )
  // An MCP connection keeps the issuer, client and resource its tokens came from.
  if (provider.mcp) await ctx.mcp.bindConnection(flow.id, stored.id)
  ctx.audit.record({
    actor: null,
    action: replaced ? 'connection.updated' : 'connection.created',
    user_id: flow.user_id,
    provider_id: flow.provider_id,
    connection_id: stored.id,
    detail: { flow_id: flow.id, scopes: stored.scopes, account_id: stored.account_id },
  })
}

export async function failFlow(ctx: BrokerContext, flow: FlowRow, error: FlowFailureCode, description: string): Promise<void> {
  await ctx.store.updateFlow(flow.id, { status: 'failed', error, error_description: description, grant_enc: null }, [
    flowFailedEvent(flow, error, description),
  ])
  ctx.audit.record({
    actor: null,
    action: 'flow.failed',
    user_id: flow.user_id,
    provider_id: flow.provider_id,
    detail: { flow_id: flow.id, error },
  })
}

/**
 * The flow a browser page acts on, while it is still pending: the shared start of the link, the
 * credential form and the confirmation. An unknown id, a flow already completed or failed, and one
 * past its expiry (failed here, once, with `expiredBecause`) answer with their outcome instead.
 */
export async function pendingFlowFor(
  ctx: BrokerContext,
  flowId: string,
  stage: 'link' | 'sign_in',
  expiredBecause: string,
): Promise<{ flow: FlowRow } | { outcome: BrowserOutcome }> {
  const flow = await ctx.store.getFlow(flowId)
  if (!flow) return { outcome: { kind: 'unknown_link' } }
  const final = finalOutcome(flow)
  if (final) return { outcome: final }
  if (flow.expires_at <= Date.now()) {
    await failFlow(ctx, flow, FLOW_FAILURE_CODES.EXPIRED, expiredBecause)
    return { outcome: { kind: 'expired', stage } }
  }
  return { flow }
}
