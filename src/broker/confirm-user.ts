/**
 * @module broker/confirm-user
 * Custom verification (wire doc §6), in three steps:
 * 1. `GET /v1/auth/verification` (Latchkey extension): what is waiting to be confirmed, so the
 *    app can show the person which provider account is about to be connected;
 * 2. `POST /v1/auth/confirm_user`: the app's verifier vouches for the user signed in to it. A
 *    different user than the flow's discards the grant (`user_mismatch`). The same user marks the
 *    grant confirmed and gets a `next_uri` on Latchkey to send the browser to;
 * 3. `GET /oauth/confirm/:id` (that `next_uri`): the grant is stored only when the browser that
 *    consented at the provider arrives (its binding cookie), then the browser goes on to the
 *    flow's own `next_uri` or a success page.
 *
 * Step 3 closes login CSRF on the verifier: an attacker who consents with their own provider
 * account on a victim's link and then makes the victim's browser open the verifier URL (a plain
 * GET) gets `confirm_user` called for the victim, but the victim's browser holds no binding for
 * the flow, so the attacker's account is discarded instead of attached to the victim.
 */

import { FLOW_FAILURE_CODES } from '@latchkey/client'
import { LatchkeyError } from '../errors.js'
import { confirmPath } from '../paths.js'
import type { FlowRow } from '../storage/store.js'
import { bindingMatches, type PresentedBinding } from './browser-binding.js'
import type { BrowserOutcome } from './browser-outcomes.js'
import { failFlow, pendingFlowFor, storeGrant } from './complete-flow.js'
import type { BrokerContext } from './context.js'
import type { HeldGrant } from './grant.js'
import { flowFailedEvent } from './webhook-events.js'

export interface PendingVerification {
  flow_id: string
  user_id: string
  provider_id: string
  scopes: string[]
  /** The provider account that consented, as far as the provider said (user info). */
  account: { id: string | null; label: string | null }
  confirmed: boolean
}

const held = (ctx: BrokerContext, flow: FlowRow): HeldGrant | undefined => {
  const json = ctx.vault.heldGrant(flow)
  return json === undefined ? undefined : (JSON.parse(json) as HeldGrant)
}

async function waitingFlow(ctx: BrokerContext, flowId: string): Promise<{ flow: FlowRow; grant: HeldGrant }> {
  const flow = await ctx.store.getFlow(flowId)
  if (!flow) throw new LatchkeyError('FLOW_NOT_FOUND', `no authorization flow with id ${JSON.stringify(flowId)}`)
  const grant = flow.status === 'pending' ? held(ctx, flow) : undefined
  if (!grant)
    throw new LatchkeyError('BAD_REQUEST', `authorization ${flow.id} is not waiting for user confirmation (status ${flow.status})`)
  return { flow, grant }
}

/** `GET /v1/auth/verification?flow_id=`: what the person consented to, before the app confirms. */
export async function pendingVerification(ctx: BrokerContext, flowId: string): Promise<PendingVerification> {
  const { flow, grant } = await waitingFlow(ctx, flowId)
  return {
    flow_id: flow.id,
    user_id: flow.user_id,
    provider_id: flow.provider_id,
    scopes: grant.tokens.scope ?? flow.scopes,
    account: { id: grant.info?.accountId ?? null, label: grant.info?.accountLabel ?? null },
    confirmed: grant.confirmedAt !== undefined,
  }
}

/** `POST /v1/auth/confirm_user`. Wire-compatible: `{ auth_id, next_uri }`; the app must send the browser to `next_uri`. */
export async function confirmUser(
  ctx: BrokerContext,
  flowId: string,
  userId: string,
  actor: string | null,
): Promise<{ auth_id: string; next_uri?: string }> {
  const found = await ctx.store.getFlow(flowId)
  if (found?.status === 'completed') {
    if (found.user_id !== userId) throw userMismatch()
    return found.next_uri ? { auth_id: found.id, next_uri: found.next_uri } : { auth_id: found.id }
  }
  const { flow, grant } = await waitingFlow(ctx, flowId)
  if (flow.user_id !== userId) {
    // The person who consented is not the user the app started the flow for: discard the grant.
    const description = 'a different user completed the sign-in'
    await ctx.store.updateFlow(
      flow.id,
      { grant_enc: null, status: 'failed', error: FLOW_FAILURE_CODES.USER_MISMATCH, error_description: description },
      [flowFailedEvent(flow, FLOW_FAILURE_CODES.USER_MISMATCH, description)],
    )
    ctx.audit.record({
      actor,
      action: 'flow.user_mismatch',
      user_id: flow.user_id,
      provider_id: flow.provider_id,
      detail: { flow_id: flow.id },
    })
    throw userMismatch()
  }
  if (flow.expires_at <= Date.now()) {
    await failFlow(ctx, flow, FLOW_FAILURE_CODES.EXPIRED, 'the sign-in was not confirmed before the authorization expired')
    throw new LatchkeyError('BAD_REQUEST', `authorization ${flow.id} expired before it was confirmed`)
  }
  if (grant.confirmedAt === undefined) {
    const confirmed: HeldGrant = { ...grant, confirmedAt: Date.now() }
    await ctx.store.updateFlow(flow.id, { grant_enc: ctx.vault.sealHeldGrant(flow.id, JSON.stringify(confirmed)) })
    ctx.audit.record({
      actor,
      action: 'flow.user_confirmed',
      user_id: flow.user_id,
      provider_id: flow.provider_id,
      detail: { flow_id: flow.id },
    })
  }
  return { auth_id: flow.id, next_uri: `${ctx.config.publicUrl}${confirmPath(flow.id)}` }
}

/** `GET /oauth/confirm/:id`: stores the confirmed grant when the browser that consented arrives. */
export async function finishConfirmation(ctx: BrokerContext, flowId: string, presentedFor: PresentedBinding): Promise<BrowserOutcome> {
  const pending = await pendingFlowFor(ctx, flowId, 'sign_in', 'the sign-in was not confirmed before the authorization expired')
  if ('outcome' in pending) return pending.outcome
  const { flow } = pending
  const grant = held(ctx, flow)
  if (!grant || grant.confirmedAt === undefined) return { kind: 'not_confirmed' }
  if (!bindingMatches(flow, presentedFor(flow.id))) {
    // Confirmed for a browser that did not consent: the login-CSRF case. The grant is discarded.
    ctx.metrics.callbacks.inc({ provider: flow.provider_id, outcome: 'confirm_browser_mismatch' })
    await failFlow(ctx, flow, FLOW_FAILURE_CODES.BROWSER_MISMATCH, 'the confirmation was opened in a different browser than the sign-in')
    return { kind: 'confirmed_elsewhere' }
  }
  const provider = ctx.registry.get(flow.provider_id)
  if (!provider) {
    await failFlow(ctx, flow, FLOW_FAILURE_CODES.PROVIDER_REMOVED, 'the provider was removed during the authorization')
    return { kind: 'provider_unavailable' }
  }
  await storeGrant(ctx, provider, flow, { tokens: grant.tokens, info: grant.info })
  return flow.next_uri
    ? { kind: 'redirect', location: flow.next_uri }
    : { kind: 'connected', provider: provider.description, verificationOff: false, account: grant.info?.accountLabel }
}

const userMismatch = () =>
  new LatchkeyError(
    'USER_MISMATCH',
    'An error occurred during verification: the signed-in user is not the user who started this authorization',
    {
      extra: { code: 400, error: 'user_mismatch', msg: 'An error occurred during verification' },
    },
  )
