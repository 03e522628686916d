/**
 * @module broker/authorization-link
 * The authorization link Latchkey hands out (`/oauth/authorize/:id`) and its Continue button.
 *
 * In `browser` mode the browser that first *continues* is the one the flow is bound to: a GET of
 * a link nobody has continued yet shows a page with a Continue button, and only its POST binds
 * and redirects to the provider. Link previews (chat unfurlers) and mail scanners fetch every URL
 * they see; were the GET to bind, they would claim the link and the person would be told it was
 * opened elsewhere. The bound browser (and the other modes) go straight on to the provider.
 */

import { FLOW_FAILURE_CODES } from '@latchkey/client'
import { buildAuthorizationUrl } from '../oauth/authorization-url.js'
import { bindingMatches, hashBinding, type PresentedBinding } from './browser-binding.js'
import type { BindBrowser, BrowserOutcome } from './browser-outcomes.js'
import { existingScopes, failFlow, pendingFlowFor } from './complete-flow.js'
import type { BrokerContext } from './context.js'
import { credentialForm } from './credential-flow.js'
import { describeScopes } from './scope-descriptions.js'

export async function openAuthorizationLink(
  ctx: BrokerContext,
  flowId: string,
  presentedFor: PresentedBinding,
  method: 'GET' | 'POST',
): Promise<BrowserOutcome> {
  const pending = await pendingFlowFor(ctx, flowId, 'link', 'the authorization link expired before it was used')
  if ('outcome' in pending) return pending.outcome
  const { flow } = pending
  if (flow.callback_at !== null) return { kind: 'link_used' }
  const provider = ctx.registry.get(flow.provider_id)
  if (!provider?.enabled) return { kind: 'provider_unavailable' }

  const browserMode = ctx.config.verification.mode === 'browser'
  const presented = presentedFor(flow.id)
  // Only a value this fleet issued for this flow goes on; anything else is replaced by a new one.
  const candidate = ctx.vault.isIssuedBinding(flow.id, presented) ? presented : ctx.vault.issueBinding(flow.id)
  const bind = (value: string): BindBrowser => ({ flowId: flow.id, value, expiresAt: flow.expires_at })
  if (browserMode && method === 'GET' && flow.opened_at === null) {
    // The page hands this browser its candidate binding (nothing is stored yet): a second press
    // of Continue, sent before the first answer arrived, presents the same value and is let through.
    return {
      kind: 'continue',
      flowId: flow.id,
      provider: provider.description,
      providerOrigin: new URL(provider.def.authorizationEndpoint).origin,
      bind: bind(candidate),
      scopes: describeScopes(provider.def, flow.requested_scopes),
    }
  }

  let setBinding: BindBrowser | undefined
  let bound = false
  if (flow.opened_at === null) {
    if (await ctx.store.markFlowOpened(flow.id, hashBinding(candidate), Date.now())) {
      bound = true
      if (candidate !== presented) setBinding = bind(candidate)
    }
  }
  if (!bound && (browserMode || provider.def.credential)) {
    const current = await ctx.store.getFlow(flow.id)
    if (!current || !bindingMatches(current, presented)) return { kind: 'opened_elsewhere' }
  }
  // A non-OAuth provider: Latchkey's own credential page, for the bound browser in every mode.
  if (provider.def.credential) return credentialForm(flow, provider, bound ? candidate : presented!, setBinding)
  if (flow.state_enc === null) {
    // Created before 0004-state-hash, whose migration could only hash the state.
    await failFlow(ctx, flow, FLOW_FAILURE_CODES.EXPIRED, 'the authorization link was created before an upgrade and was not opened in time')
    return { kind: 'expired', stage: 'link' }
  }
  let target = provider
  if (provider.mcp) {
    // The MCP server's authorization server, as discovered now; the flow is bound to it.
    try {
      const resolved = await ctx.mcp.forSignIn(provider)
      await ctx.mcp.bind(flow.id, resolved)
      target = resolved.provider
    } catch (err) {
      const message = (err as Error).message.slice(0, 300)
      await failFlow(ctx, flow, FLOW_FAILURE_CODES.PROVIDER_MISCONFIGURED, message)
      return {
        kind: 'provider_error',
        provider: provider.description,
        code: FLOW_FAILURE_CODES.PROVIDER_MISCONFIGURED,
        error: 'discovery_failed',
        description: message,
        nextUri: flow.next_uri ?? undefined,
      }
    }
  }
  const url = await buildAuthorizationUrl(target, {
    redirectUri: flow.redirect_uri,
    state: ctx.vault.open({ table: 'flows', id: flow.id, field: 'state' }, flow.state_enc),
    scopes: flow.requested_scopes,
    existingScopes: existingScopes(flow),
    codeVerifier: ctx.vault.codeVerifier(flow),
    accountHint: flow.account_hint,
  })
  return { kind: 'redirect', location: url.toString(), bind: setBinding }
}
