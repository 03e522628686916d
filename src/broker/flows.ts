/**
 * @module broker/flows
 * `authorize` and `status`: the two calls every agent makes. A connected user whose grant
 * covers the requested scopes gets `completed` with a valid token at once; anyone else gets a
 * `pending` authorization with a link, shared by identical concurrent requests.
 */

import { FLOW_FAILURE_CODES } from '@latchkey/client'
import * as oauth from 'oauth4webapi'
import { randomId } from '../crypto/api-keys.js'
import { hashState } from '../crypto/state-hash.js'
import { LatchkeyError } from '../errors.js'
import { usesPkce } from '../oauth/authorization-url.js'
import { linkPath } from '../paths.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { type ConnectionRow, EXPIRED_FLOW, type FlowRow, OpenFlowLimitError } from '../storage/store.js'
import type { AuthorizationResponse, BrokerContext } from './context.js'
import { interruptedAt, settleIfInterrupted } from './interrupted-callbacks.js'
import { dynamicMcpProvider, dynamicMcpServer } from './mcp-dynamic.js'
import { isConnectionIdSelector, selectConnection } from './select-connection.js'
import { handOutNow, handOutToken } from './tokens.js'
import type { Waiter } from './waiters.js'
import { flowFailedEvent } from './webhook-events.js'

export interface AuthorizeInput {
  userId: string
  provider: { id?: string | undefined; provider_id?: string | undefined }
  scopes: string[]
  nextUri: string | undefined
  actor: string | null
  /** An MCP server the app names itself (`auth_requirement.mcp.server_url`), when its origin is allowed. */
  mcpServerUrl?: string | undefined
  /** Which of the user's accounts (`select-connection.ts`); undefined: the default one. */
  account?: string | undefined
}

export const FLOW_ID_PREFIX = 'ac_'
export const CONNECTION_ID_PREFIX = 'cn_'

/** Whether granted scopes include every requested one, counting a provider's aliases as equal. */
export function covers(granted: readonly string[], requested: readonly string[], aliases?: Readonly<Record<string, string>>): boolean {
  if (!aliases) return requested.every((s) => granted.includes(s))
  const canonical = (s: string) => aliases[s] ?? s
  const have = new Set(granted.map(canonical))
  return requested.every((s) => have.has(canonical(s)))
}

export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((s) => s.trim()).filter(Boolean))]
}

/**
 * `POST /v1/auth/authorize`. A user whose cached connection covers the scopes and whose token
 * needs no refresh is answered at once with the serialized `completed` body — no I/O, no
 * promise (the hot path every agent tool call takes). Anything that needs the database or the
 * provider returns a promise of the answer. Bad input (unknown provider, disallowed `next_uri`)
 * throws either way.
 */
export function authorize(ctx: BrokerContext, input: AuthorizeInput): string | Promise<AuthorizationResponse> {
  if (input.mcpServerUrl !== undefined) {
    const known = ctx.registry.get(dynamicMcpServer(ctx, input.mcpServerUrl).id)
    if (!known) {
      return dynamicMcpProvider(ctx, input.mcpServerUrl, input.actor).then((p) => {
        const answer = authorizeWith(ctx, input, p)
        return typeof answer === 'string' ? (JSON.parse(answer) as AuthorizationResponse) : answer
      })
    }
    return authorizeWith(ctx, input, known)
  }
  return authorizeWith(ctx, input, ctx.registry.resolve(input.provider))
}

function authorizeWith(ctx: BrokerContext, input: AuthorizeInput, provider: ConfiguredProvider): string | Promise<AuthorizationResponse> {
  const requested = normalizeScopes(input.scopes.length > 0 ? input.scopes : (provider.def.defaultScopes ?? []))
  const nextUri = checkNextUri(ctx, input.nextUri)
  return preparedFor(ctx, input, input.actor, provider, requested) ?? authorizeFromStore(ctx, input, provider, requested, nextUri)
}

/**
 * The serialized `completed` answer when `authorize` would give it at once (a cached default
 * connection covering the scopes, its token not due), else undefined — and then it has done
 * nothing: no audit, no last-use, no metric, so the caller may run the whole `authorize` next
 * (`http/fast-authorize.ts`). Throws what `authorize` throws for the same input.
 */
export function preparedAnswer(ctx: BrokerContext, input: Omit<AuthorizeInput, 'actor'>, actor: string | null): string | undefined {
  if (input.mcpServerUrl !== undefined || input.account !== undefined) return undefined
  const provider = ctx.registry.resolve(input.provider)
  const requested = normalizeScopes(input.scopes.length > 0 ? input.scopes : (provider.def.defaultScopes ?? []))
  checkNextUri(ctx, input.nextUri)
  return preparedFor(ctx, input, actor, provider, requested)
}

function preparedFor(
  ctx: BrokerContext,
  input: Omit<AuthorizeInput, 'actor'>,
  actor: string | null,
  provider: ConfiguredProvider,
  requested: string[],
): string | undefined {
  // An account selector goes to the store (the cache holds the default connections only).
  const c = input.account === undefined ? ctx.connectionCache.peek(input.userId, provider.id) : undefined
  if (c === undefined || !covers(c.scopes, requested, provider.def.scopeAliases)) return undefined
  const token = handOutNow(ctx, c, actor)
  if (token === undefined) return undefined
  ctx.metrics.countCompleted(provider.id)
  return ctx.connectionCache.answer(c, () => JSON.stringify(completedResponse(c, token)))
}

async function authorizeFromStore(
  ctx: BrokerContext,
  input: AuthorizeInput,
  provider: ConfiguredProvider,
  initiallyRequested: string[],
  nextUri: string | undefined,
): Promise<AuthorizationResponse> {
  let requested = initiallyRequested
  const selector = input.account === '' ? undefined : input.account
  const connection = await selectConnection(ctx, input.userId, provider.id, selector)
  if (selector !== undefined && connection === undefined && isConnectionIdSelector(selector)) {
    throw new LatchkeyError('CONNECTION_NOT_FOUND', `no connection ${JSON.stringify(selector)} of this user for ${provider.id}`)
  }
  if (connection?.status === 'active' && covers(connection.scopes, requested, provider.def.scopeAliases)) {
    const handed = await handOutToken(ctx, connection, input.actor)
    if (handed.kind === 'token') {
      ctx.metrics.countCompleted(provider.id)
      return completedResponse(handed.connection, handed.token)
    }
  }

  if (provider.mcp) {
    // Discovery and registration now, so an unsafe server fails this call rather than the
    // person's sign-in; with no scopes asked for, the server's challenge or metadata names them.
    const resolved = await ctx.mcp.resolve(provider)
    if (requested.length === 0) requested = [...(resolved.provider.def.defaultScopes ?? [])]
  }
  // Incremental authorization: ask for what is requested plus what was granted before.
  const existing = (connection?.scopes ?? []).filter((s) => !covers(requested, [s], provider.def.scopeAliases))
  const target = selector === undefined ? undefined : flowTarget(selector, connection)
  const flow = await openFlow(ctx, provider, input.userId, requested, existing, nextUri, target)
  ctx.metrics.authorizations.inc({ provider: provider.id, outcome: flow.created ? 'started' : 'reused' })
  if (flow.created) {
    ctx.metrics.flowStarted(provider.id)
    ctx.audit.record({
      actor: input.actor,
      action: 'flow.started',
      user_id: input.userId,
      provider_id: provider.id,
      detail: {
        flow_id: flow.flow.id,
        scopes: requested,
        ...(target?.connection_target ? { connection_id: target.connection_target } : {}),
      },
    })
  }
  return flowResponse(ctx, flow.flow)
}

async function openFlow(
  ctx: BrokerContext,
  provider: ConfiguredProvider,
  userId: string,
  requested: string[],
  existing: string[],
  nextUri: string | undefined,
  target?: FlowTarget,
): Promise<{ flow: FlowRow; created: boolean }> {
  const now = Date.now()
  const id = `${FLOW_ID_PREFIX}${randomId(24)}`
  const codeVerifier = usesPkce(provider) ? oauth.generateRandomCodeVerifier() : undefined
  const state = oauth.generateRandomState()
  const row: FlowRow = {
    id,
    state_hash: hashState(state),
    state_enc: ctx.vault.seal({ table: 'flows', id, field: 'state' }, state),
    user_id: userId,
    provider_id: provider.id,
    scopes: [...requested, ...existing],
    requested_scopes: requested,
    // A flow for an account selector is shared only by requests with the same selector (scopes never hold a newline).
    scope_key: [...requested].sort().join(' ') + (target ? `\naccount=${target.selector}` : ''),
    code_verifier_enc: codeVerifier === undefined ? null : ctx.vault.sealCodeVerifier(id, codeVerifier),
    nonce: null,
    redirect_uri: ctx.redirectUri,
    next_uri: nextUri ?? null,
    status: 'pending',
    error: null,
    error_description: null,
    connection_id: null,
    opened_at: null,
    browser_binding: null,
    callback_at: null,
    grant_enc: null,
    created_at: now,
    expires_at: now + ctx.config.flowTtlSeconds * 1000,
    completed_at: null,
    account_hint: target?.account_hint ?? null,
    connection_target: target?.connection_target ?? null,
  }
  try {
    return await ctx.store.createOrReuseFlow(row, now, ctx.config.maxPendingFlowsPerUser, (open) => [
      flowFailedEvent(open, EXPIRED_FLOW.error, EXPIRED_FLOW.error_description, now),
    ])
  } catch (err) {
    if (!(err instanceof OpenFlowLimitError)) throw err
    ctx.metrics.authorizations.inc({ provider: provider.id, outcome: 'limited' })
    throw new LatchkeyError(
      'TOO_MANY_PENDING_FLOWS',
      `this user already has ${err.open} pending authorizations (the limit is ${ctx.config.maxPendingFlowsPerUser}); complete one or let it expire (${Math.round(ctx.config.flowTtlSeconds / 60)} min) first`,
    )
  }
}

export function completedResponse(c: ConnectionRow, token: string): AuthorizationResponse {
  return {
    id: c.id,
    status: 'completed',
    scopes: c.scopes,
    provider_id: c.provider_id,
    user_id: c.user_id,
    context: { token, user_info: c.user_info ?? {} },
    account: { connection_id: c.id, id: c.account_id, label: c.account_label, default: c.is_default === 1 },
  }
}

// ---- several accounts per user and provider ----
interface FlowTarget {
  selector: string
  /** Passed to the provider as login_hint where it takes one. */
  account_hint: string | null
  /** The connection the grant should update (when its account is unknown or the same). */
  connection_target: string | null
}

/** What a flow started with an account selector remembers: the connection it matched, and a hint for the provider's sign-in. */
function flowTarget(selector: string, matched: ConnectionRow | undefined): FlowTarget {
  const email = matched?.user_info?.['email']
  const hint = isConnectionIdSelector(selector) ? (typeof email === 'string' ? email : (matched?.account_label ?? null)) : selector
  return { selector, account_hint: hint, connection_target: matched?.id ?? null }
}
// ---- end several accounts ----

export function flowResponse(ctx: BrokerContext, flow: FlowRow): AuthorizationResponse {
  const base = { id: flow.id, scopes: flow.requested_scopes, provider_id: flow.provider_id, user_id: flow.user_id }
  if (flow.status === 'failed') {
    return {
      ...base,
      status: 'failed',
      error: { code: flow.error ?? 'failed', message: flow.error_description ?? 'the authorization failed' },
    }
  }
  return { ...base, status: 'pending', url: `${ctx.config.publicUrl}${linkPath(flow.id)}` }
}

/**
 * The caller of a long-poll went away: `aborted` once it has; `onAbort` registers the one
 * listener and returns its removal. Lighter than an `AbortSignal` (an EventTarget with two maps,
 * ~0.6 KiB), which 10,000 parked long-polls would each hold.
 */
export interface Cancellation {
  readonly aborted: boolean
  onAbort(listener: () => void): () => void
}

/**
 * `GET /v1/auth/status`: answers at once when the flow is final, else waits up to `waitMs` for
 * it to change. A completed flow answers with a fresh token (refreshed if needed).
 */
export async function status(
  ctx: BrokerContext,
  id: string,
  waitMs: number,
  actor: string | null,
  signal?: Cancellation,
): Promise<AuthorizationResponse> {
  if (id.startsWith(CONNECTION_ID_PREFIX)) {
    const c = await ctx.store.getConnectionById(id)
    if (!c) throw new LatchkeyError('FLOW_NOT_FOUND', `no authorization with id ${JSON.stringify(id)}`)
    return connectionStatus(ctx, c, c.id, actor)
  }
  const deadline = Date.now() + waitMs
  ctx.metrics.waiters.inc()
  // One waiter at a time; the caller's signal (the client went away) ends the current one.
  let waiter: Waiter | undefined
  const unsubscribe = signal?.onAbort(() => waiter?.cancel())
  try {
    for (;;) {
      const remaining = deadline - Date.now()
      // Subscribe before reading, so a change between the read and the wait is not missed.
      waiter = remaining > 0 && !signal?.aborted ? ctx.waiters.enter(id, remaining) : undefined
      try {
        const woken = waiter ? waiter.changed : Promise.resolve(false)
        let flow = await ctx.store.getFlow(id)
        if (!flow) throw new LatchkeyError('FLOW_NOT_FOUND', `no authorization with id ${JSON.stringify(id)}`)
        // A callback whose process died mid-exchange: failed once its deadline passed (see interrupted-callbacks.ts).
        flow = await settleIfInterrupted(ctx, flow)
        if (flow.status === 'pending' && flow.expires_at <= Date.now()) {
          // An unconfirmed grant expires with its flow.
          const expired = { status: 'failed', ...EXPIRED_FLOW, grant_enc: null } as const
          if (await ctx.store.updateFlow(id, expired, [flowFailedEvent(flow, expired.error, expired.error_description)]))
            ctx.metrics.flowFailed(flow.provider_id, EXPIRED_FLOW.error)
          flow = { ...flow, ...expired }
        }
        if (flow.status === 'completed') {
          const c = flow.connection_id ? await ctx.store.getConnectionById(flow.connection_id) : undefined
          if (!c)
            return {
              ...flowResponse(ctx, flow),
              status: 'failed',
              error: { code: FLOW_FAILURE_CODES.CONNECTION_DELETED, message: 'the connection was deleted after this authorization' },
            }
          return connectionStatus(ctx, c, flow.id, actor, flow.requested_scopes)
        }
        if (flow.status === 'failed' || remaining <= 0 || signal?.aborted || ctx.waiters.closed) return flowResponse(ctx, flow)
        // An exchange in progress: wake at its deadline too, to settle it should its process have died.
        const settleAt = interruptedAt(ctx, flow)
        // Not holding `flow` across the wait: 10,000 parked long-polls would each keep a row.
        flow = undefined
        if (settleAt === undefined) await woken
        else {
          const sleeping = new AbortController()
          await Promise.race([woken, sleepUntil(settleAt, sleeping.signal)])
          sleeping.abort()
        }
      } finally {
        // Ends this round's waiter whatever happened (a no-op once it has been woken or timed out).
        waiter?.cancel()
      }
    }
  } finally {
    unsubscribe?.()
    ctx.metrics.waiters.dec()
  }
}

/** Resolves at `at` (or when `signal` aborts, which also clears the timer). */
function sleepUntil(at: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, at - Date.now()) + 10)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })
}

async function connectionStatus(
  ctx: BrokerContext,
  c: ConnectionRow,
  id: string,
  actor: string | null,
  requested?: string[],
): Promise<AuthorizationResponse> {
  const handed = await handOutToken(ctx, c, actor)
  if (handed.kind === 'token') return { ...completedResponse(handed.connection, handed.token), id }
  return {
    id,
    status: 'failed',
    scopes: requested ?? c.scopes,
    provider_id: c.provider_id,
    user_id: c.user_id,
    error: { code: FLOW_FAILURE_CODES.REAUTH_REQUIRED, message: 'the grant was revoked or expired; call authorize again for a new link' },
  }
}

/** `next_uri` may only point at the public URL's origin or a configured origin (no open redirect). */
function checkNextUri(ctx: BrokerContext, nextUri: string | undefined): string | undefined {
  if (nextUri === undefined || nextUri === '') return undefined
  let url: URL
  try {
    url = new URL(nextUri)
  } catch {
    throw new LatchkeyError('INVALID_NEXT_URI', 'next_uri must be an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new LatchkeyError('INVALID_NEXT_URI', 'next_uri must be an http(s) URL')
  const allowed = new Set([new URL(ctx.config.publicUrl).origin, ...ctx.config.allowedRedirectOrigins])
  if (!allowed.has(url.origin)) {
    throw new LatchkeyError('INVALID_NEXT_URI', `next_uri origin ${url.origin} is not allowed; add it to LATCHKEY_ALLOWED_REDIRECT_ORIGINS`)
  }
  return url.toString()
}
