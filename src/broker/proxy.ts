/**
 * @module broker/proxy
 * The proxy (`/v1/proxy/<provider>/<path>`): an agent calls a provider's API through Latchkey,
 * which picks the user's connection (`select-connection.ts`), gets a valid token the way every
 * hand-out does (`tokens.ts`: refreshed first when due), adds it (`credential-headers.ts`) and
 * forwards the call through the one outbound path (`oauth/http.ts`, streaming) — only under the
 * provider's declared API base URLs. The agent never sees the token.
 *
 * On a 401 the token is refreshed once (forced, through the refresher: one refresh per
 * connection however many calls were rejected at the same time, since each names the token
 * generation it used) and the call is repeated once, when that is safe: an idempotent method
 * whose body, if any, was small enough to keep (64 KiB, declared by content-length). Otherwise
 * the 401 is returned, and the refresh still runs so the next call has a fresh token.
 *
 * Bodies stream both ways; nothing of them is logged or audited. Each call leaves one
 * `proxy.request` audit entry: method, host, path template (`proxy-target.ts`), status.
 */
import { Readable } from 'node:stream'
import { LatchkeyError } from '../errors.js'
import { type CancelSignal, providerStream, type StreamResponse } from '../oauth/http.js'
import { ProviderError } from '../oauth/provider-error.js'
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { credentialHeadersFor } from './credential-headers.js'
import { connectionApiBase, downstreamHeaders, pathTemplate, upstreamHeaders, upstreamUrl } from './proxy-target.js'
import { isConnectionIdSelector, matchAccount, selectConnection } from './select-connection.js'
import { handOutToken } from './tokens.js'

export interface ProxyCall {
  /** The `<provider>` path segment: a provider id (or a type, resolved like `auth_requirement.provider_id`). */
  provider: string
  userId: string
  selector: ProxySelector
  /** `Latchkey-Api-Base`: which declared base URL; default the first. */
  apiBase: string | undefined
  method: string
  /** The path after `/v1/proxy/<provider>/`, percent-encoded as received, with its query. */
  path: string
  headers: Record<string, string | string[] | undefined>
  /** The request body as it arrives; undefined when there is none. */
  body: Readable | undefined
  actor: string | null
  /** Aborted when the caller goes away: the upstream call is cancelled. */
  signal: CancelSignal
}

/** `Latchkey-Connection-Id` and `Latchkey-Account`: both, when given, must name the same connection. */
export interface ProxySelector {
  /** `cn_…`: exactly this connection (it must belong to the user and provider). */
  connectionId?: string | undefined
  /** The provider account: its id, label or e-mail (as `account` on authorize). */
  account?: string | undefined
}

/**
 * The caller went away (its signal aborted) before the provider answered: nothing to answer,
 * and no failure of the provider's. Thrown so the route can drop the call quietly.
 */
export class CallerGone extends Error {
  constructor() {
    super('the caller went away before the provider answered')
    this.name = 'CallerGone'
  }
}

export interface ProxyAnswer {
  status: number
  headers: Record<string, string | string[]>
  body: Readable
}

/** Methods a repeat cannot change the effect of (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
/** Largest body kept in memory so an idempotent call can be repeated after a 401; also the largest 401 body kept. */
const REPLAY_LIMIT = 64 * 1024
/** A 401 of a token younger than this forces no refresh (see `forceRefresh`). */
const MIN_TOKEN_AGE_MS = 10_000

export async function proxy(ctx: BrokerContext, call: ProxyCall): Promise<ProxyAnswer> {
  const provider = ctx.registry.resolve({ provider_id: call.provider })
  const declared = provider.def.apiBaseUrls ?? []
  const perConnection = declared.length === 0 ? provider.def.connectionApiBase : undefined
  if (declared.length === 0 && perConnection === undefined) {
    throw new LatchkeyError('PROVIDER_NO_API', `provider ${JSON.stringify(provider.id)} declares no API base URL to proxy to`)
  }
  // The path is checked before any connection is looked up (for a per-connection host, against a stand-in base).
  let url = upstreamUrl(perConnection ? ['https://connection.invalid'] : declared, perConnection ? undefined : call.apiBase, call.path)
  const connection = await pickConnection(ctx, call.userId, provider.id, call.selector)
  if (connection === undefined) {
    throw new LatchkeyError('CONNECTION_NOT_FOUND', `user has no connection to ${provider.id}${describe(call.selector)}`)
  }
  if (perConnection !== undefined) {
    const base = connectionApiBase(perConnection, connection.user_info, ctx.config.allowInsecureLoopbackProviders)
    url = upstreamUrl([base], call.apiBase, call.path)
  }
  const handed = await handOutToken(ctx, connection, call.actor)
  if (handed.kind !== 'token') {
    throw new LatchkeyError(
      'CONNECTION_REAUTH_REQUIRED',
      `the user must authorize ${provider.id} again (POST /v1/auth/authorize gives the link)`,
    )
  }

  const method = call.method.toUpperCase()
  const length = Number(call.headers['content-length'] ?? Number.NaN)
  let body: Readable | Buffer | undefined = call.body
  let replayable = IDEMPOTENT.has(method)
  if (body !== undefined && replayable) {
    if (Number.isFinite(length) && length <= REPLAY_LIMIT) body = await readAll(body, REPLAY_LIMIT)
    else replayable = false
  }

  const template = pathTemplate(url)
  const audit = (status: number | null, extra: Record<string, unknown> = {}) =>
    ctx.audit.record({
      actor: call.actor,
      action: 'proxy.request',
      user_id: connection.user_id,
      provider_id: provider.id,
      connection_id: connection.id,
      detail: { method, host: url.host, path: template, status, ...extra },
    })

  // The credential's headers of the last call sent: added upstream, and what no answer header may carry.
  let injected: Record<string, string> = {}
  const send = (c: ConnectionRow, token: string) => {
    injected = credentialHeadersFor(provider, c, token)
    return upstream(ctx, { url, method, headers: upstreamHeaders(call.headers, injected), body, signal: call.signal })
  }

  let used = { connection: handed.connection, token: handed.token }
  let res: StreamResponse
  try {
    res = await send(used.connection, used.token)
    if (res.status === 401) {
      // The 401's body is kept (up to 64 KiB) so it can still be returned when no retry happens.
      const first = replayable ? await readUpTo(res.body, REPLAY_LIMIT) : undefined
      if (first === undefined || !first.complete) {
        if (first !== undefined) res = { ...res, body: rejoined(first, res.body) }
        const rejected = used.connection
        void forceRefresh(ctx, rejected, call.actor).catch((err: unknown) =>
          ctx.log.warn({ connection: rejected.id, err: (err as Error).message }, 'proxy: refresh after a 401 failed'),
        )
      } else {
        const fresh = await forceRefresh(ctx, used.connection, call.actor)
        if (fresh === undefined) {
          res = { ...res, body: Readable.from(first.chunks) }
        } else {
          used = fresh
          res = await send(used.connection, used.token)
          audit(res.status, { retried: true })
          return answer(res, secretsOf(used.token, injected))
        }
      }
    }
  } catch (err) {
    audit(null, { error: err instanceof CallerGone ? 'caller_gone' : err instanceof LatchkeyError ? err.code : 'unavailable' })
    throw err
  }
  audit(res.status)
  return answer(res, secretsOf(used.token, injected))
}

/** The connection the selector names (see `select-connection.ts`); a connection id and an account must agree. */
async function pickConnection(ctx: BrokerContext, userId: string, providerId: string, selector: ProxySelector) {
  const { connectionId, account } = selector
  if (connectionId === undefined) return selectConnection(ctx, userId, providerId, account)
  if (!isConnectionIdSelector(connectionId)) return undefined
  const c = await selectConnection(ctx, userId, providerId, connectionId)
  return c && (account === undefined || matchAccount([c], account)) ? c : undefined
}

function answer(res: StreamResponse, secrets: string[]): ProxyAnswer {
  return { status: res.status, headers: downstreamHeaders(res.headers, secrets), body: res.body }
}

/** What no answer header may carry: the token itself and every injected header value (a Basic pair, an API key's format). */
function secretsOf(token: string, injected: Record<string, string>): string[] {
  return [token, ...Object.values(injected)]
}

/** The outbound call, its failures as the API's error codes. */
async function upstream(ctx: BrokerContext, request: Parameters<typeof providerStream>[1]): Promise<StreamResponse> {
  try {
    return await providerStream(ctx.http, request)
  } catch (err) {
    if (request.signal?.aborted) throw new CallerGone()
    if (!(err instanceof ProviderError)) throw err
    if (err.kind === 'protocol') throw new LatchkeyError('UPSTREAM_REFUSED', err.message)
    throw new LatchkeyError('PROVIDER_UNAVAILABLE', `${request.url.host}: ${err.message}`)
  }
}

/**
 * The connection's token after a forced refresh, or undefined when there is no other token to
 * try: refresh not possible or failed, or the token is only seconds old (an API that rejects a
 * brand-new token would otherwise cost a refresh per call). Only a refresh of the generation
 * that was rejected runs; callers rejected at the same time share it (the refresher's single
 * flight, then the generation check under its lock).
 */
async function forceRefresh(
  ctx: BrokerContext,
  c: ConnectionRow,
  actor: string | null,
): Promise<{ connection: ConnectionRow; token: string } | undefined> {
  if (c.token_issued_at !== null && Date.now() - c.token_issued_at < MIN_TOKEN_AGE_MS) return undefined
  const outcome = await ctx.refresher.refresh(c.id, { force: true, actor, ifGeneration: c.generation })
  if (outcome.kind !== 'fresh' || outcome.connection.generation === c.generation) return undefined
  return handOut(ctx, outcome.connection, actor)
}

async function handOut(ctx: BrokerContext, c: ConnectionRow, actor: string | null) {
  const handed = await handOutToken(ctx, c, actor)
  return handed.kind === 'token' ? { connection: handed.connection, token: handed.token } : undefined
}

async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += b.length
    if (size > limit) throw new LatchkeyError('BAD_REQUEST', `body larger than its content-length (${limit} bytes at most)`)
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

interface Head {
  chunks: Buffer[]
  complete: boolean
  rest: AsyncIterator<unknown>
}

/** Up to `limit` bytes of a stream: all of it (`complete`) or the first chunks, the rest left unread in `rest`. */
async function readUpTo(stream: Readable, limit: number): Promise<Head> {
  const chunks: Buffer[] = []
  let size = 0
  const rest = stream[Symbol.asyncIterator]()
  for (;;) {
    if (size > limit) return { chunks, complete: false, rest }
    const next = await rest.next()
    if (next.done) return { chunks, complete: true, rest }
    const b = next.value as Buffer
    size += b.length
    chunks.push(b)
  }
}

/**
 * The chunks already read, then the rest of `source`. Destroying the result (the caller went
 * away) destroys `source` too: the generator itself would wait on its pending read forever,
 * leaving the upstream request open and the outbound pool unable to close.
 */
function rejoined(head: Head, source: Readable): Readable {
  const out = Readable.from(resumed(head))
  out.once('close', () => {
    if (!source.destroyed) source.destroy()
  })
  return out
}

/** The chunks already read, then the rest of the stream. */
async function* resumed(head: Head): AsyncGenerator<Buffer> {
  yield* head.chunks
  for (;;) {
    const next = await head.rest.next()
    if (next.done) return
    yield next.value as Buffer
  }
}

function describe(s: ProxySelector): string {
  if (s.connectionId !== undefined) return ` with id ${JSON.stringify(s.connectionId)}`
  if (s.account !== undefined) return ` for account ${JSON.stringify(s.account)}`
  return ''
}
