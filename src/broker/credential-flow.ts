/**
 * @module broker/credential-flow
 * Non-OAuth providers (API key, HTTP Basic): the person enters the credential on Latchkey's page,
 * reached through the same authorization link (the app never sees the form). The page is shown
 * only to the browser the flow is bound to (the Continue button binds it, as for OAuth), and its
 * POST must come from that browser with the form's CSRF token, which is derived from the binding
 * cookie's value (a cross-site page can read neither). The credential is checked against the
 * service when the catalog says how, then stored encrypted as the connection's "token": apps get
 * it through authorize and status like an access token (`context.token`; for Basic the password,
 * with the username in `context.user_info.username`).
 */

import { createHash } from 'node:crypto'
import { constantTimeEqual } from '../crypto/api-keys.js'
import { validateCredential } from '../oauth/credential.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import type { FlowRow } from '../storage/store.js'
import { bindingMatches, type PresentedBinding } from './browser-binding.js'
import type { BindBrowser, BrowserOutcome, CredentialForm, CredentialFormError } from './browser-outcomes.js'
import { pendingFlowFor, storeGrant } from './complete-flow.js'
import type { BrokerContext } from './context.js'

/** The form's CSRF token: bound to the browser's binding value, never stored. */
export const csrfToken = (bindingValue: string) => createHash('sha256').update(`latchkey-csrf\u0000${bindingValue}`).digest('base64url')

export function credentialForm(
  flow: FlowRow,
  provider: ConfiguredProvider,
  bindingValue: string,
  bind?: BindBrowser,
  error?: CredentialFormError,
): CredentialForm {
  const c = provider.def.credential!
  return {
    kind: 'credential_form',
    flowId: flow.id,
    provider: provider.description,
    credential: { kind: c.kind, ...(c.labels ? { labels: c.labels } : {}) },
    csrf: csrfToken(bindingValue),
    bind,
    error,
  }
}

export interface SubmittedCredential {
  csrf: string | undefined
  secret: string | undefined
  username: string | undefined
}

export async function submitCredential(
  ctx: BrokerContext,
  flowId: string,
  presentedFor: PresentedBinding,
  form: SubmittedCredential,
): Promise<BrowserOutcome> {
  const pending = await pendingFlowFor(ctx, flowId, 'link', 'the authorization link expired before it was used')
  if ('outcome' in pending) return pending.outcome
  const { flow } = pending
  const provider = ctx.registry.get(flow.provider_id)
  const def = provider?.def.credential
  if (!provider?.enabled || !def) return { kind: 'provider_unavailable' }
  const presented = presentedFor(flow.id)
  if (presented === undefined || !bindingMatches(flow, presented) || !form.csrf || !constantTimeEqual(form.csrf, csrfToken(presented))) {
    return { kind: 'wrong_browser' }
  }
  const secret = form.secret?.trim() ?? ''
  const username = def.kind === 'basic' ? (form.username?.trim() ?? '') : undefined
  if (secret === '' || secret.length > 4096 || username === '' || (username?.length ?? 0) > 256) {
    return credentialForm(flow, provider, presented, undefined, 'missing')
  }
  let verdict: Awaited<ReturnType<typeof validateCredential>>
  try {
    verdict = await validateCredential(def, { secret, username }, ctx.http)
  } catch {
    return credentialForm(flow, provider, presented, undefined, 'unavailable')
  }
  ctx.metrics.callbacks.inc({ provider: flow.provider_id, outcome: verdict.verdict === 'invalid' ? 'credential_rejected' : 'credential' })
  if (verdict.verdict === 'invalid') return credentialForm(flow, provider, presented, undefined, 'rejected')
  // Single use, like an OAuth callback: a second submit of the same page finds the flow consumed.
  if (!(await ctx.store.consumeFlowCallback(flow.id, Date.now()))) return { kind: 'replayed' }
  const who = verdict.identity
  await storeGrant(ctx, provider, flow, {
    tokens: {
      accessToken: secret,
      refreshToken: undefined,
      expiresIn: undefined,
      refreshTokenExpiresIn: undefined,
      scope: undefined,
      tokenType: undefined,
      idToken: undefined,
      kept: {},
    },
    // The account the validation response names (Twilio's account sid and friendly name), else:
    // Basic, the username; an API key, the hint the app asked with (so selecting by that hint
    // finds it again).
    info:
      username !== undefined
        ? { accountId: who?.id ?? username, accountLabel: who?.label ?? username, userInfo: { username } }
        : { accountId: who?.id, accountLabel: who?.label ?? flow.account_hint ?? undefined, userInfo: {} },
  })
  return { kind: 'connected', provider: provider.description, verificationOff: false }
}
