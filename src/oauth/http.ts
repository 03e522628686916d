/**
 * @module oauth/http
 * All outbound HTTP to providers goes through here: a timeout on every request, no redirects
 * followed (a redirect from a token endpoint is refused, preventing SSRF through 3xx), a
 * User-Agent (required by GitHub and Reddit), response size capped, and nothing logged.
 */
import { ProviderError } from './provider-error.js'

export const USER_AGENT = 'Latchkey/0.1 (+https://github.com/latchkey)'
const MAX_BODY_BYTES = 1024 * 1024

export type Fetch = typeof fetch

export interface ProviderHttpOptions {
  timeoutMs: number
  /** Injected for tests; defaults to the global fetch. */
  fetch?: Fetch
}

/**
 * A fetch for oauth4webapi's `customFetch` and our own calls: adds timeout and User-Agent,
 * turns network failures into transient `ProviderError`s, and can re-encode a form body as
 * JSON for providers whose token endpoint only takes JSON.
 */
export function providerFetch(options: ProviderHttpOptions, extra: { jsonBody?: boolean } = {}): Fetch {
  const base = options.fetch ?? fetch
  return async (input, init = {}) => {
    const headers = new Headers(init.headers)
    if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT)
    // RequestInit.body is `BodyInit | null`; fetch treats null and absent alike.
    let body: BodyInit | null = init.body ?? null
    if (extra.jsonBody && body instanceof URLSearchParams) {
      body = JSON.stringify(Object.fromEntries(body))
      headers.set('content-type', 'application/json')
    }
    const signal = AbortSignal.timeout(options.timeoutMs)
    let response: Response
    try {
      response = await base(input, { ...init, body, headers, signal, redirect: 'manual' })
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError' || signal.aborted
      throw new ProviderError('transient', timedOut ? `provider did not answer within ${options.timeoutMs} ms` : `provider unreachable: ${(err as Error).message}`, {
        cause: err,
      })
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel()
      throw new ProviderError('protocol', `provider answered with a redirect (HTTP ${response.status}); redirects are not followed`, { status: response.status })
    }
    return response
  }
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
