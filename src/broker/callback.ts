/**
 * @module broker/callback
 * `GET /oauth/callback`: the provider sends the browser back here with `code` and `state`. The
 * code is exchanged for tokens, which are stored as the user's connection, or held until the app
 * confirms the user (`custom` verification, `confirm-user.ts`).
 *
 * Verification modes (SECURITY.md):
 * - `browser` (default): the callback must come back to the browser the link is bound to.
 * - `custom`: the grant is held unconfirmed, the browser that consented is bound to it, and it
 *   is sent (303) to the app's verifier, which calls `confirm_user` with the signed-in user and
 *   sends the browser on to the `next_uri` that returns; the grant is stored when that same
 *   browser arrives there (`confirm-user.ts`).
 * - `skip`: development only.
 */

import { FLOW_FAILURE_CODES, providerFailureCode } from '@latchkey/client'
import * as oauth from 'oauth4webapi'
import { constantTimeEqual } from '../crypto/api-keys.js'
import { hashState } from '../crypto/state-hash.js'
import { exchangeCode } from '../oauth/exchange-code.js'
import { expectedIssuer } from '../oauth/expected-issuer.js'
import { asProviderError } from '../oauth/provider-error.js'
import { fetchUserInfo, type UserInfo } from '../oauth/user-info.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { bindingMatches, hashBinding, type PresentedBinding } from './browser-binding.js'
import { type BrowserOutcome, finalOutcome } from './browser-outcomes.js'
import { existingScopes, failFlow, storeGrant } from './complete-flow.js'
import type { BrokerContext } from './context.js'
import type { Grant } from './grant.js'
import { type McpResolution, purgedRegistrationMessage } from './mcp-providers.js'

export async function handleCallback(ctx: BrokerContext, query: URLSearchParams, presentedFor: PresentedBinding): Promise<BrowserOutcome> {
  const state = query.get('state')
  if (!state || query.getAll('state').length !== 1) return { kind: 'missing_state' }
  const stateHash = hashState(state)
  const flow = await ctx.store.getFlowByStateHash(stateHash)
  // The lookup found the row by the state's hash; compare anyway in constant time, as defence in depth.
  if (!flow || !constantTimeEqual(flow.state_hash, stateHash)) return { kind: 'unknown_state' }
  const provider = ctx.registry.get(flow.provider_id)
  const outcome = (o: string) => ctx.metrics.callbacks.inc({ provider: flow.provider_id, outcome: o })
  if (flow.status !== 'pending' || flow.callback_at !== null) {
    outcome('replayed')
    return finalOutcome(flow) ?? { kind: 'replayed' }
  }
  if (flow.expires_at <= Date.now()) {
    outcome('expired')
    await failFlow(ctx, flow, FLOW_FAILURE_CODES.EXPIRED, 'the authorization link expired before it was used')
    return { kind: 'expired', stage: 'sign_in' }
  }
  if (ctx.config.verification.mode === 'browser' && !bindingMatches(flow, presentedFor(flow.id))) {
    outcome('browser_mismatch')
    // Do not consume the flow: the rightful browser may still complete it.
    return { kind: 'wrong_browser' }
  }
  if (!(await ctx.store.consumeFlowCallback(flow.id, Date.now()))) {
    outcome('replayed')
    return { kind: 'replayed' }
  }
  if (!provider) {
    await failFlow(ctx, flow, FLOW_FAILURE_CODES.PROVIDER_REMOVED, 'the provider was removed during the authorization')
    return { kind: 'provider_unavailable' }
  }

  const providerError = query.get('error')
  if (providerError) {
    const denied = providerError === 'access_denied'
    outcome(denied ? 'denied' : 'provider_error')
    const description = (query.get('error_description') ?? '').slice(0, 300)
    const code = denied ? FLOW_FAILURE_CODES.ACCESS_DENIED : providerFailureCode(providerError)
    // A code outside RFC 6749 is stored as provider_error; the message keeps the code the provider sent.
    const sent =
      code === FLOW_FAILURE_CODES.PROVIDER_ERROR
        ? `${providerError.slice(0, 100)}${description ? `: ${description}` : ''}`
        : description || providerError
    await failFlow(ctx, flow, code, denied ? 'the user declined the authorization' : sent)
    const nextUri = flow.next_uri ?? undefined
    return denied
      ? { kind: 'declined', provider: provider.description, nextUri }
      : { kind: 'provider_error', provider: provider.description, code, error: providerError, description, nextUri }
  }

  let grant: Grant
  let mcp: McpResolution | undefined
  try {
    // An MCP server's endpoints and client: the ones this flow was sent to (mcp-providers.ts).
    if (provider.mcp) mcp = await ctx.mcp.forCallback(provider, flow.id)
    const target = mcp ? mcp.provider : provider
    const params = oauth.validateAuthResponse(
      {
        issuer: expectedIssuer(target.def, query.get('iss')),
        ...(target.def.issuerParameterRequired ? { authorization_response_iss_parameter_supported: true } : {}),
      },
      { client_id: target.clientId },
      query,
      oauth.skipStateCheck,
    )
    const tokens = await exchangeCode(
      target,
      {
        callbackParameters: params,
        redirectUri: flow.redirect_uri,
        codeVerifier: ctx.vault.codeVerifier(flow),
        scopes: flow.requested_scopes,
        existingScopes: existingScopes(flow),
      },
      ctx.http,
    )
    grant = {
      tokens,
      info: withKeptFields(await userInfoOnGrant(ctx, provider, tokens.accessToken), tokens.kept, provider.def.keepCallbackParams, query),
    }
  } catch (err) {
    const e = asProviderError(err)
    outcome(`exchange_${e.kind}`)
    ctx.log.warn(
      { flow: flow.id, provider: provider.id, kind: e.kind, error: e.error, status: e.httpStatus },
      `code exchange failed: ${e.message}`,
    )
    // An MCP authorization server that purged our dynamic registration after the person consented:
    // the registration is dropped (once, whoever notices first) so the next sign-in registers
    // again, and this flow fails asking the person to start again — not a misconfiguration.
    const purged = e.kind === 'invalid_client' && mcp?.method === 'dcr'
    if (purged) {
      try {
        await ctx.mcp.invalidateClient(provider, mcp!.issuer, mcp!.clientId)
      } catch (dropErr) {
        // The flow is failed below all the same (not left pending until it expires); the next
        // sign-in's check finds the purged client again.
        ctx.log.warn(
          { flow: flow.id, provider: provider.id, err: (dropErr as Error).message },
          'could not drop the purged MCP registration',
        )
      }
    }
    const misconfigured = e.kind === 'invalid_client' && !purged
    await failFlow(
      ctx,
      flow,
      misconfigured ? FLOW_FAILURE_CODES.PROVIDER_MISCONFIGURED : FLOW_FAILURE_CODES.EXCHANGE_FAILED,
      (purged ? purgedRegistrationMessage(mcp!.issuer) : e.message).slice(0, 300),
    )
    return {
      kind: 'exchange_failed',
      provider: provider.description,
      misconfigured,
      error: e.error,
      nextUri: flow.next_uri ?? undefined,
    }
  }

  if (ctx.config.verification.mode === 'custom') {
    // The browser that consented gets its own binding: after confirm_user, the grant becomes
    // usable only when this browser arrives at the confirmation URL (confirm-user.ts). A verifier
    // URL handed to another browser (a plain GET any page can trigger) then attaches nothing.
    const binding = ctx.vault.issueBinding(flow.id)
    await ctx.store.updateFlow(flow.id, {
      grant_enc: ctx.vault.sealHeldGrant(flow.id, JSON.stringify(grant)),
      browser_binding: hashBinding(binding),
    })
    outcome('awaiting_verification')
    const verifier = new URL(ctx.config.verification.verifierUrl!)
    verifier.searchParams.set('flow_id', flow.id)
    return { kind: 'redirect', location: verifier.toString(), bind: { flowId: flow.id, value: binding, expiresAt: flow.expires_at } }
  }
  await storeGrant(ctx, provider, flow, grant)
  outcome('completed')
  return flow.next_uri
    ? { kind: 'redirect', location: flow.next_uri }
    : {
        kind: 'connected',
        provider: provider.description,
        verificationOff: ctx.config.verification.mode === 'skip',
        account: grant.info?.accountLabel,
      }
}

/** Adds the provider's declared token-response and callback fields (instance URL, company id) to user_info. */
function withKeptFields(
  info: UserInfo | undefined,
  kept: Record<string, unknown>,
  callbackParams: readonly string[] | undefined,
  query: URLSearchParams,
): UserInfo | undefined {
  const fromCallback = Object.fromEntries((callbackParams ?? []).map((k) => [k, query.get(k)]).filter(([, v]) => v !== null))
  const extra = { ...kept, ...fromCallback }
  if (Object.keys(extra).length === 0) return info
  return { userInfo: { ...info?.userInfo, ...extra }, accountId: info?.accountId, accountLabel: info?.accountLabel }
}

async function userInfoOnGrant(ctx: BrokerContext, provider: ConfiguredProvider, accessToken: string): Promise<UserInfo | undefined> {
  if (!provider.def.userInfo || provider.def.userInfo.triggers?.onTokenGrant === false) return undefined
  try {
    return await fetchUserInfo(provider, accessToken, ctx.http)
  } catch (err) {
    // The grant is good without it; the app still gets its token.
    ctx.log.warn({ provider: provider.id, err: (err as Error).message }, 'could not fetch user info after the grant')
    return undefined
  }
}
