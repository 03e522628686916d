/**
 * @module oauth/http
 * All outbound HTTP goes through here (nothing else in src/ calls `fetch`; a test checks): the
 * SSRF guard (`outbound-guard.ts`) before sending and at connect time, the standard proxy
 * environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), a timeout on every request, no redirects
 * followed (a redirect from a token endpoint is refused, preventing SSRF through 3xx), a
 * User-Agent (required by GitHub and Reddit), response size capped, and nothing logged.
 *
 * The `undici` package's own fetch is used with its dispatcher (its version is the one Node 20
 * bundles), rather than handing a dispatcher of one undici copy to the other's global fetch.
 */
import { EventEmitter } from 'node:events'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { OutboundGuard, OutboundRefused, type ResolveHost } from './outbound-guard.js'
import { ProviderError } from './provider-error.js'

export const USER_AGENT = 'Latchkey/0.1 (+https://github.com/latchkey)'
const MAX_BODY_BYTES = 1024 * 1024

export type Fetch = typeof fetch

export interface ProviderHttpOptions {
  timeoutMs: number
  /** The guard and the connection pool (with the proxy, if any): one per process. */
  outbound: Outbound
  /** Injected for tests (to count or fail calls); the guard's first check still runs. */
  fetch?: Fetch
}

export interface OutboundSettings {
  /** CIDRs, addresses or host names private addresses may be reached at. */
  allowPrivate: readonly string[]
  /** From HTTP_PROXY / HTTPS_PROXY / NO_PROXY (or their lower-case forms). */
  proxy: { http: string | undefined; https: string | undefined; noProxy: string | undefined }
  /** Tests inject a resolver (a name that resolves to 127.0.0.1). */
  resolve?: ResolveHost
}

export interface Outbound {
  guard: OutboundGuard
  /** The connection pool (with the proxy, if any), made on the first outbound request. */
  dispatcher(): Promise<Dispatcher>
  /** The pool once made (so a caller on the hot path need not await `dispatcher()`), else undefined. */
  current(): Dispatcher | undefined
  /**
   * Host → until when (monotonic ms) its pre-send resolution check stands (`providerStream`).
   * Undefined with an egress proxy: the proxy resolves the name, so no connect-time lookup of
   * ours runs and the pre-send check is the only one — it must run on every call.
   */
  readonly resolvedRecently: Map<string, number> | undefined
  /** Closes the pool, if one was made. */
  close(): Promise<void>
}

// undici is loaded on the first outbound request, not at start: importing it was an eighth of
// the CPU from spawn to ready (h7-perf, bench start-up).
type Undici = Pick<typeof import('undici'), 'Agent' | 'EnvHttpProxyAgent' | 'fetch'>
let undici: Promise<Undici> | undefined
const loadUndici = (): Promise<Undici> => {
  undici ??= import('undici').then(({ Agent, EnvHttpProxyAgent, fetch }) => ({ Agent, EnvHttpProxyAgent, fetch }))
  return undici
}

export function createOutbound(settings: OutboundSettings): Outbound {
  const guard = new OutboundGuard(settings.allowPrivate, settings.resolve)
  let made: Promise<Dispatcher> | undefined
  let pool: Dispatcher | undefined
  const dispatcher = () => {
    made ??= loadUndici().then(({ Agent, EnvHttpProxyAgent }) => {
      // Direct connections resolve through the guard; proxied ones are resolved by the proxy.
      const connect = { lookup: guard.connectLookup() }
      const { http, https, noProxy } = settings.proxy
      pool =
        http || https
          ? // Empty strings, not undefined: undici would otherwise read process.env itself.
            new EnvHttpProxyAgent({ httpProxy: http ?? '', httpsProxy: https ?? '', noProxy: noProxy ?? '', connect })
          : new Agent({ connect })
      return pool
    })
    return made
  }
  return {
    guard,
    dispatcher,
    current: () => pool,
    resolvedRecently: settings.proxy.http || settings.proxy.https ? undefined : new Map(),
    async close() {
      if (made) await (await made).close()
    },
  }
}

/**
 * A fetch for oauth4webapi's `customFetch` and our own calls: adds timeout and User-Agent,
 * turns network failures into transient `ProviderError`s, and can re-encode a form body as
 * JSON for providers whose token endpoint only takes JSON.
 */
export function providerFetch(options: ProviderHttpOptions, extra: { jsonBody?: boolean } = {}): Fetch {
  const { guard, dispatcher } = options.outbound
  const base: Fetch = options.fetch ?? dispatchFetch(dispatcher)
  return async (input, init = {}) => {
    const target = input instanceof Request ? input.url : String(input)
    try {
      await guard.check(target)
    } catch (err) {
      throw refused(err)
    }
    const headers = new Headers(init.headers)
    if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT)
    // RequestInit.body is `BodyInit | null`; fetch treats null and absent alike.
    let body: BodyInit | null = init.body ?? null
    if (extra.jsonBody && body instanceof URLSearchParams) {
      body = JSON.stringify(Object.fromEntries(body))
      headers.set('content-type', 'application/json')
    }
    // One timer per request, cleared on the answer (AbortSignal.timeout costs more: a transferable signal).
    const abort = new AbortController()
    const signal = abort.signal
    const timer = setTimeout(() => abort.abort(new DOMException('provider timeout', 'TimeoutError')), options.timeoutMs)
    let response: Response
    try {
      response = await base(input, { ...init, body, headers, signal, redirect: 'manual' })
    } catch (err) {
      if (err instanceof ProviderError) throw err
      if (findRefusal(err)) throw refused(findRefusal(err))
      const timedOut = (err as Error).name === 'TimeoutError' || signal.aborted
      throw new ProviderError(
        'transient',
        timedOut ? `provider did not answer within ${options.timeoutMs} ms` : `provider unreachable: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    } finally {
      clearTimeout(timer)
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel()
      throw new ProviderError('protocol', `provider answered with a redirect (HTTP ${response.status}); redirects are not followed`, {
        status: response.status,
      })
    }
    return response
  }
}

/** A provider's answer read in full (at most 1 MiB): what a token response is parsed from. */
export interface ProviderAnswer {
  status: number
  /** Lower-case names. */
  contentType: string | null
  body: string
}

/**
 * `providerFetch` for a token request: the same guard, timeout, User-Agent, JSON re-encoding,
 * size cap and refusal of redirects, but the answer comes back as a `ProviderAnswer` read
 * straight off the dispatcher's `request()`, with no `Response` and no WHATWG stream to read it
 * through: building and reading those was ~6 % of a refresh's CPU (refresh-throughput profile).
 * An injected `fetch` (tests) is still called, its `Response` read as before.
 */
export function providerAnswer(
  options: ProviderHttpOptions,
  extra: { jsonBody?: boolean } = {},
): (url: string, init: RequestInit) => Promise<ProviderAnswer> {
  if (options.fetch) {
    const f = providerFetch(options, extra)
    return async (url, init) => {
      const r = await f(url, init)
      return { status: r.status, contentType: r.headers.get('content-type'), body: await readBody(r) }
    }
  }
  const { guard, dispatcher } = options.outbound
  return async (url, init) => {
    try {
      await guard.check(url)
    } catch (err) {
      throw refused(err)
    }
    const headers = plainHeaders(init.headers)
    headers['user-agent'] ??= USER_AGENT
    let body = init.body ?? null
    if (extra.jsonBody && body instanceof URLSearchParams) {
      body = JSON.stringify(Object.fromEntries(body))
      headers['content-type'] = 'application/json'
    } else if (body instanceof URLSearchParams) {
      body = body.toString()
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8'
    }
    if (body !== null && typeof body !== 'string') throw new TypeError('providerAnswer sends a string or a form')
    // An EventEmitter as the signal (undici takes one): an AbortController's signal is a
    // transferable EventTarget, ~1.5 % of a refresh's CPU to make and listen to.
    const abort = new EventEmitter()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      abort.emit('abort')
    }, options.timeoutMs)
    try {
      const target = new URL(url)
      const r = await (await dispatcher()).request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
        headers,
        body,
        signal: abort,
      })
      if (r.statusCode >= 300 && r.statusCode < 400) {
        await r.body.dump()
        throw new ProviderError('protocol', `provider answered with a redirect (HTTP ${r.statusCode}); redirects are not followed`, {
          status: r.statusCode,
        })
      }
      const contentType = r.headers['content-type']
      return {
        status: r.statusCode,
        contentType: Array.isArray(contentType) ? contentType.join(', ') : (contentType ?? null),
        body: (await readCapped(r.body as AsyncIterable<Buffer> & { destroy(): void }, r.statusCode)).toString('utf8'),
      }
    } catch (err) {
      if (err instanceof ProviderError) throw err
      if (findRefusal(err)) throw refused(findRefusal(err))
      throw new ProviderError(
        'transient',
        timedOut ? `provider did not answer within ${options.timeoutMs} ms` : `provider unreachable: ${(err as Error).message}`,
        { cause: err },
      )
    } finally {
      clearTimeout(timer)
    }
  }
}

/** RequestInit headers as a plain object with lower-case names (oauth4webapi already sends one). */
function plainHeaders(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  if (h === undefined || h === null) return out
  if (h instanceof Headers || Array.isArray(h)) {
    new Headers(h).forEach((v, k) => {
      out[k] = v
    })
    return out
  }
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v
  return out
}

/** A response body read to its end, refused past 1 MiB. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, status: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) {
      body.destroy()
      throw new ProviderError('protocol', 'provider response is larger than 1 MiB', { status })
    }
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

/**
 * A POST whose answer is only its status (webhook deliveries): the same guard, dispatcher,
 * timeout and User-Agent as `providerFetch`, no redirect followed (a 3xx is returned as its
 * status), the body discarded. On the dispatcher's `request()`, about twice as fast as fetch per
 * call. Failures are `ProviderError`s like `providerFetch`'s.
 */
export async function postForStatus(
  options: ProviderHttpOptions,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<number> {
  if (options.fetch) {
    // Tests that inject a fetch see these calls too.
    const res = await providerFetch(options)(url, { method: 'POST', headers, body })
    await res.body?.cancel()
    return res.status
  }
  try {
    await options.outbound.guard.check(url)
  } catch (err) {
    throw refused(err)
  }
  const signal = AbortSignal.timeout(options.timeoutMs)
  try {
    const target = new URL(url)
    const dispatcher = await options.outbound.dispatcher()
    const res = await dispatcher.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers: { 'user-agent': USER_AGENT, ...headers },
      body,
      signal,
    })
    await res.body.dump()
    return res.statusCode
  } catch (err) {
    if (findRefusal(err)) throw refused(findRefusal(err))
    const timedOut = (err as Error).name === 'TimeoutError' || signal.aborted
    throw new ProviderError('transient', timedOut ? `no answer within ${options.timeoutMs} ms` : `unreachable: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

/** A streamed outbound request (the proxy): the body is sent as it arrives, never buffered here. */
export interface StreamRequest {
  url: URL
  method: string
  headers: Record<string, string | string[]>
  /** A stream is sent as it is read (chunked unless a content-length header says otherwise). */
  body?: Readable | Buffer | undefined
  signal?: CancelSignal | undefined
}

/**
 * What cancels a streamed request: an `AbortSignal`, or an EventEmitter that emits `abort` and says
 * `aborted` (undici takes either; the emitter costs a fraction of an AbortController and its two
 * EventTarget listeners per call).
 */
export type CancelSignal = AbortSignal | (EventEmitter & { readonly aborted: boolean })

export interface StreamResponse {
  status: number
  /** Lower-case names; repeated headers (set-cookie) as arrays. */
  headers: Record<string, string | string[] | undefined>
  /** Read it to the end or destroy it, or the connection is not returned to the pool. */
  body: Readable
}

/**
 * The streaming form of the one outbound path, for the proxy: the same guard (before sending
 * and at connect time, through the shared dispatcher), proxy environment and no redirects
 * followed (a 3xx is returned as it is, not followed), with the body streamed both ways instead
 * of capped. The timeout bounds the wait for the response headers and each pause between body
 * chunks, not the whole transfer (a 100 MB download takes as long as it takes). Nothing logged.
 */
export async function providerStream(options: ProviderHttpOptions, request: StreamRequest): Promise<StreamResponse> {
  try {
    const pending = checkBeforeStream(options.outbound, request.url)
    if (pending !== undefined) await pending
  } catch (err) {
    throw refused(err)
  }
  const headers = { ...request.headers }
  if (headers['user-agent'] === undefined) headers['user-agent'] = USER_AGENT
  try {
    const dispatcher = options.outbound.current() ?? (await options.outbound.dispatcher())
    const answer = await dispatcher.request({
      origin: request.url.origin,
      path: `${request.url.pathname}${request.url.search}`,
      method: request.method as Dispatcher.HttpMethod,
      headers,
      body: request.body ?? null,
      signal: request.signal ?? null,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    })
    return { status: answer.statusCode, headers: answer.headers, body: answer.body }
  } catch (err) {
    if (findRefusal(err)) throw refused(findRefusal(err))
    const code = (err as { code?: string }).code
    const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
    throw new ProviderError(
      'transient',
      timedOut ? `provider did not answer within ${options.timeoutMs} ms` : `provider unreachable: ${(err as Error).message}`,
      { cause: err },
    )
  }
}

/** How long a host's pre-send resolution check stands for the proxy (`checkBeforeStream`). */
const RESOLVED_TTL_MS = 5_000
/** Hosts remembered at most (they come from declared API base URLs, so few); past it the map starts over. */
const RESOLVED_MAX = 1_000

/**
 * The guard's check before a proxied call, its name resolution done at most once per host every
 * 5 s: a proxied call otherwise paid a `getaddrinfo` (a libuv thread-pool job) for every request.
 * What this does not weaken: the URL's own checks (credentials, blocked names, literal
 * addresses) run on every call, and the check that stops DNS rebinding is the connect-time
 * lookup of the dispatcher, which is not cached — every new connection resolves again and is
 * refused if any address is; a kept-alive connection stays on the address already checked.
 * Only a refusal's early, clearer error may come up to 5 s late for a name that changed.
 * Behind an egress proxy there is no connect-time lookup of ours (the proxy resolves the name),
 * so there nothing is cached and the check runs on every call. Refusals and failures are never
 * remembered. The clock is monotonic, so a wall-clock step cannot stretch the 5 s. Undefined when
 * nothing is left to wait for.
 */
function checkBeforeStream(outbound: Outbound, url: URL): Promise<void> | undefined {
  const recent = outbound.resolvedRecently
  if (recent === undefined) return outbound.guard.check(url)
  const host = url.hostname
  const until = recent.get(host)
  if (until !== undefined && until > performance.now()) {
    outbound.guard.checkUrl(url)
    return undefined
  }
  return outbound.guard.check(url).then(() => {
    if (recent.size >= RESOLVED_MAX) recent.clear()
    recent.set(host, performance.now() + RESOLVED_TTL_MS)
  })
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

/**
 * `fetch` over the dispatcher's `request()`: the answer is read in full (at most 1 MiB) and
 * handed back as a `Response` over that buffer. undici's `fetch` builds WHATWG streams, a
 * Request object and a transferable signal per call: a fifth of Latchkey's CPU per refresh in
 * `bench/scenarios/refresh-throughput.ts`. No redirects are followed (`request()` never does),
 * the guard's connect-time lookup is the dispatcher's, so both hold as before. Bodies other than
 * a string, bytes or a form (none of our callers sends one) go through undici's `fetch`.
 */
function dispatchFetch(pool: () => Promise<Dispatcher>): Fetch {
  const viaFetch: Fetch = async (input, init) => {
    const [{ fetch }, dispatcher] = await Promise.all([loadUndici(), pool()])
    return fetch(input as string, { ...(init as object), dispatcher }) as unknown as Promise<Response>
  }
  return async (input, init = {}) => {
    let body = init.body ?? null
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v
    })
    if (body instanceof URLSearchParams) {
      body = body.toString()
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8'
    } else if (body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return viaFetch(input, init)
    }
    if (input instanceof Request) return viaFetch(input, init)
    const url = new URL(String(input))
    const dispatcher = await pool()
    const r = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body,
      signal: init.signal ?? null,
    })
    const buffer = await readCapped(r.body as AsyncIterable<Buffer> & { destroy(): void }, r.statusCode)
    const responseHeaders = new Headers()
    for (const [k, v] of Object.entries(r.headers)) {
      if (Array.isArray(v)) for (const one of v) responseHeaders.append(k, one)
      else if (v !== undefined) responseHeaders.set(k, v)
    }
    return new Response(NULL_BODY_STATUS.has(r.statusCode) ? null : (buffer as unknown as BodyInit), {
      status: r.statusCode,
      headers: responseHeaders,
    })
  }
}

/** The guard's refusal, as a `ProviderError` that says why ("resolves to a loopback address"). */
function refused(err: unknown): ProviderError {
  if (!(err instanceof OutboundRefused)) {
    // The name did not resolve: the provider is unreachable, not refused.
    return new ProviderError('transient', `provider unreachable: ${(err as Error).message}`, { cause: err })
  }
  return new ProviderError('protocol', `outbound request refused: ${err.message}`, { cause: err })
}

/** fetch wraps the connect-time refusal in a TypeError ("fetch failed"); find it in the causes. */
function findRefusal(err: unknown): OutboundRefused | undefined {
  for (let e = err, i = 0; e instanceof Error && i < 5; e = e.cause, i++) if (e instanceof OutboundRefused) return e
  return undefined
}

/** Reads a response body as text, refusing bodies over 1 MiB. */
export async function readBody(response: Response): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? 0)
  if (length > MAX_BODY_BYTES) {
    await response.body?.cancel()
    throw new ProviderError('protocol', 'provider response is larger than 1 MiB', { status: response.status })
  }
  const reader = response.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>
    try {
      chunk = await reader.read()
    } catch (err) {
      throw new ProviderError('transient', `provider response was cut off: ${(err as Error).message}`, { cause: err })
    }
    if (chunk.done) break
    size += chunk.value.length
    if (size > MAX_BODY_BYTES) {
      await reader.cancel()
      throw new ProviderError('protocol', 'provider response is larger than 1 MiB', { status: response.status })
    }
    chunks.push(chunk.value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
