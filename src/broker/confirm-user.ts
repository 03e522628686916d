/**
 * @module broker/confirm-user
 * `POST /v1/auth/confirm_user` (custom verification, wire doc §6): the app's verifier vouches
 * for the user signed in to it; the held grant is stored only when that is the user the flow
 * was started for.
 */
import { LatchkeyError } from '../errors.js'
import { failFlow, storeGrant } from './complete-flow.js'
import type { BrokerContext } from './context.js'
import type { Grant } from './grant.js'

export async function confirmUser(ctx: BrokerContext, flowId: string, userId: string, actor: string | null): Promise<{ auth_id: string; next_uri?: string }> {
  const flow = await ctx.store.getFlow(flowId)
  if (!flow) throw new LatchkeyError('FLOW_NOT_FOUND', `no authorization flow with id ${JSON.stringify(flowId)}`)
  if (flow.status === 'completed') {
    if (flow.user_id !== userId) throw userMismatch()
    return flow.next_uri ? { auth_id: flow.id, next_uri: flow.next_uri } : { auth_id: flow.id }
  }
  if (flow.status !== 'pending' || flow.grant_enc === null) {
    throw new LatchkeyError('BAD_REQUEST', `authorization ${flow.id} is not waiting for user confirmation (status ${flow.status})`)
  }
  if (flow.user_id !== userId) {
    // The person who consented is not the user the app started the flow for: discard the grant.
    await ctx.store.updateFlow(flow.id, { grant_enc: null, status: 'failed', error: 'user_mismatch', error_description: 'a different user completed the sign-in' })
    ctx.audit.record({ actor, action: 'flow.user_mismatch', user_id: flow.user_id, provider_id: flow.provider_id, detail: { flow_id: flow.id } })
    throw userMismatch()
  }
  if (flow.expires_at <= Date.now()) {
    await failFlow(ctx, flow, 'expired', 'the sign-in was not confirmed before the authorization expired')
    throw new LatchkeyError('BAD_REQUEST', `authorization ${flow.id} expired before it was confirmed`)
  }
  const provider = ctx.registry.get(flow.provider_id)
  if (!provider) throw new LatchkeyError('PROVIDER_UNKNOWN', `provider ${flow.provider_id} is no longer configured`)
  const grant = JSON.parse(ctx.vault.heldGrant(flow)!) as Grant
  await storeGrant(ctx, provider, flow, grant)
  ctx.audit.record({ actor, action: 'flow.user_confirmed', user_id: flow.user_id, provider_id: flow.provider_id, detail: { flow_id: flow.id } })
  return flow.next_uri ? { auth_id: flow.id, next_uri: flow.next_uri } : { auth_id: flow.id }
}

const userMismatch = () =>
  new LatchkeyError('USER_MISMATCH', 'An error occurred during verification: the signed-in user is not the user who started this authorization', {
    extra: { code: 400, error: 'user_mismatch', msg: 'An error occurred during verification' },
  })
