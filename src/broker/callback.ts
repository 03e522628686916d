/**
 * @module broker/callback
 * The browser side of a flow: the link Latchkey hands out (`/oauth/authorize/:id`), the OAuth
 * callback, and user verification (`confirm_user`). Every outcome is a page or a redirect;
 * nothing here returns JSON to a browser.
 *
 * Verification modes (SECURITY.md):
 * - `browser` (default): the link is bound to the first browser that opens it (an HttpOnly
 *   cookie); the callback must come back to that browser.
 * - `custom`: the grant is held unconfirmed and the browser is sent (303) to the app's verifier,
 *   which calls `confirm_user` with the signed-in user; only then is a token handed out.
 * - `skip`: development only.
 */
import { createHash, randomBytes } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { LatchkeyError } from '../errors.js'
import { constantTimeEqual } from '../crypto/api-keys.js'
import { buildAuthorizationUrl } from '../oauth/authorization-url.js'
import { exchangeCode } from '../oauth/exchange-code.js'
import { ProviderError } from '../oauth/provider-error.js'
import type { TokenSet } from '../oauth/token-response.js'
import { type UserInfo, fetchUserInfo } from '../oauth/user-info.js'
import { randomId } from '../crypto/api-keys.js'
import type { ConfiguredProvider } from '../providers/provider-config.js'
import type { FlowRow } from '../storage/store.js'
import type { PageContent } from '../http/pages/page.js'
import type { BrokerContext } from './context.js'
import { CONNECTION_ID_PREFIX } from './flows.js'
import { hashState } from '../crypto/state-hash.js'
import { expectedIssuer } from '../oauth/expected-issuer.js'

export interface Cookie {
  name: string
  value: string
  maxAgeSeconds: number
}

export type BrowserResult =
  | { kind: 'redirect'; location: string; setCookie?: Cookie }
  | ({ kind: 'page'; status: number; setCookie?: Cookie; formRedirectOrigin?: string } & PageContent)

const errorPage = (status: number, title: string, message: string): BrowserResult => ({ kind: 'page', status, tone: 'error', title, message })

export const bindingCookieName = (flowId: string) => `lk_${flowId}`
/** The scopes granted before that the flow asks for again (its scopes beyond the requested ones). */
const existingScopes = (flow: FlowRow) => flow.scopes.filter((s) => !flow.requested_scopes.includes(s))
const hashBinding = (value: string) => createHash('sha256').update(value).digest('base64url')

/**
 * The authorization link, `/oauth/authorize/:id`. In `browser` mode the browser that first
 * *continues* is the one the flow is bound to: a GET of a link nobody has continued yet shows a
 * page with a Continue button, and only its POST binds and redirects to the provider. Link
 * previews (chat unfurlers) and mail scanners fetch every URL they see; were the GET to bind,
 * they would claim the link and the person would be told it was opened elsewhere. The bound
 * browser (and the other modes) go straight on to the provider.
 */
export async function openAuthorizationLink(ctx: BrokerContext, flowId: string, cookies: Record<string, string>, method: 'GET' | 'POST'): Promise<BrowserResult> {
  const flow = await ctx.store.getFlow(flowId)
  if (!flow) return errorPage(404, 'Unknown link', 'This authorization link is not valid. Ask the app for a new one.')
  const final = finalPage(flow)
  if (final) return final
  if (flow.expires_at <= Date.now()) {
    await failFlow(ctx, flow, 'expired', 'the authorization link expired before it was used')
    return errorPage(410, 'Link expired', 'This authorization link has expired. Ask the app for a new one.')
  }
  if (flow.callback_at !== null) return errorPage(409, 'Link already used', 'This authorization link has already been used.')
  const provider = ctx.registry.get(flow.provider_id)
  if (!provider?.enabled) return errorPage(404, 'Provider unavailable', 'The service this link is for is no longer configured.')

  const browserMode = ctx.config.verification.mode === 'browser'
  const presented = cookies[bindingCookieName(flow.id)]
  const cookie = (value: string): Cookie => ({ name: bindingCookieName(flow.id), value, maxAgeSeconds: Math.ceil((flow.expires_at - Date.now()) / 1000) })
  if (browserMode && method === 'GET' && flow.opened_at === null) {
    // The page hands this browser its candidate binding (nothing is stored yet): a second press
    // of Continue, sent before the first answer arrived, presents the same value and is let through.
    return {
      kind: 'page',
      status: 200,
      tone: 'continue',
      title: `Connect ${provider.description}`,
      message: `An app you use asked to act for you on ${provider.description}. Continue to sign in there and choose what to allow. Only continue if you asked for this.`,
      // Relative: the page's own URL, wherever Latchkey is mounted.
      form: { action: flow.id, button: `Continue to ${provider.description}` },
      formRedirectOrigin: new URL(provider.def.authorizationEndpoint).origin,
      setCookie: cookie(presented ?? randomBytes(32).toString('base64url')),
    }
  }

  let setCookie: Cookie | undefined
  let bound = false
  if (flow.opened_at === null) {
    const value = presented ?? randomBytes(32).toString('base64url')
    if (await ctx.store.markFlowOpened(flow.id, hashBinding(value), Date.now())) {
      bound = true
      if (value !== presented) setCookie = cookie(value)
    }
  }
  if (!bound && browserMode) {
    const current = await ctx.store.getFlow(flow.id)
    if (!presented || !current?.browser_binding || !constantTimeEqual(hashBinding(presented), current.browser_binding)) {
      return errorPage(
        403,
        'Link opened elsewhere',
        'This authorization link was already opened in another browser. For your safety it only works there. Ask the app for a new link.',
      )
    }
  }
  if (flow.state_enc === null) {
    // Created before 0004-state-hash, whose migration could only hash the state.
    await failFlow(ctx, flow, 'expired', 'the authorization link was created before an upgrade and was not opened in time')
    return errorPage(410, 'Link expired', 'This authorization link was created before Latchkey was upgraded. Ask the app for a new one.')
  }
  const codeVerifier = flow.code_verifier_enc ? ctx.vault.open({ table: 'flows', id: flow.id, field: 'code_verifier' }, flow.code_verifier_enc) : undefined
  const url = await buildAuthorizationUrl(provider, {
    redirectUri: flow.redirect_uri,
    state: ctx.vault.open({ table: 'flows', id: flow.id, field: 'state' }, flow.state_enc),
    scopes: flow.requested_scopes,
    existingScopes: existingScopes(flow),
    codeVerifier,
  })
  return setCookie ? { kind: 'redirect', location: url.toString(), setCookie } : { kind: 'redirect', location: url.toString() }
}

/** `GET /oauth/callback`: the provider sends the browser back here with `code` and `state`. */
export async function handleCallback(ctx: BrokerContext, query: URLSearchParams, cookies: Record<string, string>): Promise<BrowserResult> {
  const state = query.get('state')
  if (!state || query.getAll('state').length !== 1) return errorPage(400, 'Invalid request', 'The sign-in response is missing its state. Start again from the app.')
  const stateHash = hashState(state)
  const flow = await ctx.store.getFlowByStateHash(stateHash)
  // The lookup found the row by the state's hash; compare anyway in constant time, as defence in depth.
  if (!flow || !constantTimeEqual(flow.state_hash, stateHash)) {
    return errorPage(400, 'Unknown or used link', 'This sign-in response does not match any authorization in progress. It may have been used already.')
  }
  const provider = ctx.registry.get(flow.provider_id)
  const outcome = (o: string) => ctx.metrics.callbacks.inc({ provider: flow.provider_id, outcome: o })
  if (flow.status !== 'pending' || flow.callback_at !== null) {
    outcome('replayed')
    return finalPage(flow) ?? errorPage(409, 'Already used', 'This sign-in response was already used.')
  }
  if (flow.expires_at <= Date.now()) {
    outcome('expired')
    await failFlow(ctx, flow, 'expired', 'the authorization link expired before it was used')
    return errorPage(410, 'Link expired', 'This authorization took too long and has expired. Start again from the app.')
  }
  if (ctx.config.verification.mode === 'browser') {
    const presented = cookies[bindingCookieName(flow.id)]
    if (!presented || !flow.browser_binding || !constantTimeEqual(hashBinding(presented), flow.browser_binding)) {
      outcome('browser_mismatch')
      // Do not consume the flow: the rightful browser may still complete it.
      return errorPage(403, 'Wrong browser', 'This sign-in finished in a different browser than the one that opened the link, so it was not accepted.')
    }
  }
  if (!(await ctx.store.consumeFlowCallback(flow.id, Date.now()))) {
    outcome('replayed')
    return errorPage(409, 'Already used', 'This sign-in response was already used.')
  }
  if (!provider) {
    await failFlow(ctx, flow, 'provider_removed', 'the provider was removed during the authorization')
    return errorPage(404, 'Provider unavailable', 'The service this link is for is no longer configured.')
  }

  const providerError = query.get('error')
  if (providerError) {
    const denied = providerError === 'access_denied'
    outcome(denied ? 'denied' : 'provider_error')
    const description = (query.get('error_description') ?? '').slice(0, 300)
    await failFlow(ctx, flow, denied ? 'access_denied' : providerError.slice(0, 100), denied ? 'the user declined the authorization' : description || providerError)
    return denied
      ? errorPage(200, 'Authorization declined', `You declined access to ${provider.description}. You can close this window.`)
      : errorPage(502, 'Sign-in failed', `${provider.description} reported an error: ${providerError}${description ? ` (${description})` : ''}`)
  }

  let grant: { tokens: TokenSet; info: UserInfo | undefined }
  try {
    const params = oauth.validateAuthResponse({ issuer: expectedIssuer(provider.def, query.get('iss')) }, { client_id: provider.clientId }, query, oauth.skipStateCheck)
    const codeVerifier = flow.code_verifier_enc ? ctx.vault.open({ table: 'flows', id: flow.id, field: 'code_verifier' }, flow.code_verifier_enc) : undefined
    const tokens = await exchangeCode(provider, { callbackParameters: params, redirectUri: flow.redirect_uri, codeVerifier, scopes: flow.requested_scopes, existingScopes: existingScopes(flow) }, ctx.http)
    grant = { tokens, info: withKeptFields(await userInfoOnGrant(ctx, provider, tokens.accessToken), tokens.kept, provider.def.keepCallbackParams, query) }
  } catch (err) {
    const e = err instanceof ProviderError ? err : new ProviderError('protocol', (err as Error).message, { cause: err })
    outcome(`exchange_${e.kind}`)
    ctx.log.warn({ flow: flow.id, provider: provider.id, kind: e.kind, error: e.error, status: e.httpStatus }, `code exchange failed: ${e.message}`)
    await failFlow(ctx, flow, e.kind === 'invalid_client' ? 'provider_misconfigured' : 'exchange_failed', e.message.slice(0, 300))
    return errorPage(
      502,
      'Sign-in failed',
      e.kind === 'invalid_client'
        ? `${provider.description} rejected this app's credentials. The operator must fix the provider configuration.`
        : `Could not complete the sign-in with ${provider.description}: ${e.error ?? 'the provider did not return a usable token'}.`,
    )
  }

  if (ctx.config.verification.mode === 'custom') {
    const sealed = ctx.vault.seal({ table: 'flows', id: flow.id, field: 'grant' }, JSON.stringify(grant))
    await ctx.store.updateFlow(flow.id, { grant_enc: sealed })
    outcome('awaiting_verification')
    const verifier = new URL(ctx.config.verification.verifierUrl!)
    verifier.searchParams.set('flow_id', flow.id)
    return { kind: 'redirect', location: verifier.toString() }
  }
  await storeGrant(ctx, provider, flow, grant)
  outcome('completed')
  return successPage(ctx, provider, flow)
}

/** `POST /v1/auth/confirm_user`: the app vouches for the signed-in user (custom verification). */
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
    await ctx.store.publish({ channel: 'flow', id: flow.id })
    ctx.audit.record({ actor, action: 'flow.user_mismatch', user_id: flow.user_id, provider_id: flow.provider_id, detail: { flow_id: flow.id } })
    throw userMismatch()
  }
  if (flow.expires_at <= Date.now()) {
    await failFlow(ctx, flow, 'expired', 'the sign-in was not confirmed before the authorization expired')
    throw new LatchkeyError('BAD_REQUEST', `authorization ${flow.id} expired before it was confirmed`)
  }
  const provider = ctx.registry.get(flow.provider_id)
  if (!provider) throw new LatchkeyError('PROVIDER_UNKNOWN', `provider ${flow.provider_id} is no longer configured`)
  const grant = JSON.parse(ctx.vault.open({ table: 'flows', id: flow.id, field: 'grant' }, flow.grant_enc)) as { tokens: TokenSet; info: UserInfo | undefined }
  await storeGrant(ctx, provider, flow, grant)
  ctx.audit.record({ actor, action: 'flow.user_confirmed', user_id: flow.user_id, provider_id: flow.provider_id, detail: { flow_id: flow.id } })
  return flow.next_uri ? { auth_id: flow.id, next_uri: flow.next_uri } : { auth_id: flow.id }
}

const userMismatch = () =>
  new LatchkeyError('USER_MISMATCH', 'An error occurred during verification: the signed-in user is not the user who started this authorization', {
    extra: { code: 400, error: 'user_mismatch', msg: 'An error occurred during verification' },
  })

/** Adds the provider's declared token-response and callback fields (instance URL, company id) to user_info. */
function withKeptFields(info: UserInfo | undefined, kept: Record<string, unknown>, callbackParams: readonly string[] | undefined, query: URLSearchParams): UserInfo | undefined {
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

async function storeGrant(ctx: BrokerContext, provider: ConfiguredProvider, flow: FlowRow, grant: { tokens: TokenSet; info: UserInfo | undefined }): Promise<void> {
  const now = Date.now()
  const { tokens, info } = grant
  const expiresIn = tokens.expiresIn ?? provider.def.assumedAccessTokenLifetimeSeconds
  const newId = `${CONNECTION_ID_PREFIX}${randomId(24)}`
  let replaced = false
  // The store settles the id (an existing connection keeps its own) before anything is encrypted.
  const stored = await ctx.store.completeFlowWithConnection(flow.id, flow, (existing) => {
    const id = existing?.id ?? newId
    replaced = existing !== undefined
    // What the old grant leaves behind (its refresh token, its identity) is kept only for the same
    // provider account: a re-consent with another account must not inherit the first one's grant.
    const sameAccount = existing !== undefined && (info?.accountId ?? null) === existing.account_id
    const seal = (field: 'access_token' | 'refresh_token', value: string) => ctx.vault.seal({ table: 'connections', id, field }, value)
    return {
      id,
      user_id: flow.user_id,
      provider_id: flow.provider_id,
      status: 'active',
      // Granted scopes: what the provider says it granted, else what was asked for.
      scopes: tokens.scope ?? flow.scopes,
      access_token_enc: seal('access_token', tokens.accessToken),
      refresh_token_enc: tokens.refreshToken !== undefined ? seal('refresh_token', tokens.refreshToken) : sameAccount ? existing.refresh_token_enc : null,
      token_type: tokens.tokenType ?? null,
      expires_at: expiresIn === undefined ? null : now + expiresIn * 1000,
      token_issued_at: now,
      refresh_token_expires_at:
        tokens.refreshTokenExpiresIn !== undefined
          ? now + tokens.refreshTokenExpiresIn * 1000
          : tokens.refreshToken === undefined && sameAccount
            ? existing.refresh_token_expires_at
            : null,
      account_id: info?.accountId ?? null,
      account_label: info?.accountLabel ?? (sameAccount ? existing.account_label : null),
      user_info: info?.userInfo ?? (sameAccount ? existing.user_info : null),
      created_at: existing?.created_at ?? now,
      updated_at: now,
      last_used_at: existing?.last_used_at ?? null,
      last_refresh_at: existing?.last_refresh_at ?? null,
      last_refresh_error: null,
      refresh_failures: 0,
      refresh_cooldown_until: null,
      refresh_lease_owner: existing?.refresh_lease_owner ?? null,
      refresh_lease_until: existing?.refresh_lease_until ?? null,
    }
  })
  ctx.audit.record({
    actor: null,
    action: replaced ? 'connection.updated' : 'connection.created',
    user_id: flow.user_id,
    provider_id: flow.provider_id,
    connection_id: stored.id,
    detail: { flow_id: flow.id, scopes: stored.scopes, account_id: stored.account_id },
  })
  await ctx.store.publish({ channel: 'flow', id: flow.id })
}

function successPage(ctx: BrokerContext, provider: ConfiguredProvider, flow: FlowRow): BrowserResult {
  if (flow.next_uri) return { kind: 'redirect', location: flow.next_uri }
  const warning = ctx.config.verification.mode === 'skip' ? ' (Development mode: user verification is off.)' : ''
  return {
    kind: 'page',
    status: 200,
    tone: ctx.config.verification.mode === 'skip' ? 'warning' : 'success',
    title: 'Connected',
    message: `You connected ${provider.description}. You can close this window and return to the app.${warning}`,
  }
}

function finalPage(flow: FlowRow): BrowserResult | undefined {
  if (flow.status === 'completed') return { kind: 'page', status: 200, tone: 'success', title: 'Already connected', message: 'This authorization is already complete. You can close this window.' }
  if (flow.status === 'failed') {
    return flow.error === 'expired'
      ? errorPage(410, 'Link expired', 'This authorization link has expired. Ask the app for a new one.')
      : errorPage(410, 'Authorization ended', 'This authorization has ended. Ask the app for a new link.')
  }
  return undefined
}

async function failFlow(ctx: BrokerContext, flow: FlowRow, error: string, description: string): Promise<void> {
  await ctx.store.updateFlow(flow.id, { status: 'failed', error, error_description: description, grant_enc: null })
  ctx.audit.record({ actor: null, action: 'flow.failed', user_id: flow.user_id, provider_id: flow.provider_id, detail: { flow_id: flow.id, error } })
  await ctx.store.publish({ channel: 'flow', id: flow.id })
}
