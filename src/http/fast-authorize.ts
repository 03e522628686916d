/**
 * @module http/fast-authorize
 * `POST /v1/auth/authorize` for a connected user (the call an agent makes before every tool
 * call), answered on the server's `request` event before Fastify sees it. Measured: a one-route
 * Fastify app alone costs 1.5–1.8× a bare `node:http` route in CPU per request, so the hot-path
 * goal (70 % of bare) cannot be met through it.
 *
 * The rule that keeps it exact: this path answers only what the route would answer with the
 * prepared body (`preparedAnswer`), and hands every other request to Fastify unchanged — before
 * its body is read, the request itself; after, a replay of it with the same headers and body
 * (`replay`), marked as admitted so the key guard neither verifies nor counts it twice. Anything
 * that is not the plain case (another media type, chunked or over-long bodies, bad JSON, a body
 * the route's schema refuses, a provider or `next_uri` error, a flow to start) is Fastify's, with
 * its error handling, hooks and logging. `test/e2e/fast-authorize.test.ts` sends the same
 * requests to both and compares status, headers and body.
 */
import { IncomingMessage, type ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import secureJson from 'secure-json-parse'
import type { z } from 'zod'
import type { ApiKeys, VerifiedKey } from '../broker/api-keys.js'
import type { AuthorizeInput } from '../broker/flows.js'
import { ADMITTED, type AdmittedRequest, type RateLimiter } from './guard.js'
import { bodyValidator } from './lazy-compilers.js'
import { nextRequestId } from './request-id.js'
import { type authorizeBody, authorizeRoute } from './routes/auth.js'
import { JSON_PARSE_OPTIONS } from './schema.js'

const PATH = authorizeRoute.path
/** Parsed bodies kept: a few agents' few bodies each, far more than needed; at most 1,000 × 2 KiB. */
const MEMO_ENTRIES = 1000
const MEMO_BODY_MAX = 2048

export interface FastAuthorizeParts {
  /** `preparedAnswer` of `broker/flows.ts`, bound to the broker. */
  prepared: (input: Omit<AuthorizeInput, 'actor'>, actor: string) => string | undefined
  log: Logger
  apiKeys: ApiKeys
  limiter: RateLimiter
  bodyLimit: number
  /** The route's body schema (JSON Schema, as Fastify validates it). */
  bodySchema: Record<string, unknown>
  /** The route's duration series (`route-durations.ts`). */
  record: (statusCode: number, ms: number) => void
  /** True once the app is closing: Fastify then answers 503. */
  closing: () => boolean
  /** Requests are logged at debug level, as Fastify's onResponse hook logs them. */
  debug: boolean
  /** Behind a trusted proxy the client address is Fastify's to work out (its log line then has none). */
  trustProxy: boolean
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** Wraps Fastify's request handler with the fast path. */
export function withFastAuthorize(parts: FastAuthorizeParts, fastify: Handler): Handler {
  const { prepared: preparedFor, log, apiKeys, limiter, bodyLimit, record, closing, debug, trustProxy } = parts
  const valid = bodyValidator(parts.bodySchema, 'POST', PATH)

  // Agents send the same few bodies again and again: what a body's bytes parse and validate to
  // is kept (bounded by count and size), so a repeat skips JSON parsing and the schema check. It
  // is exact: the result depends on the bytes alone.
  const parsed = new Map<string, Omit<AuthorizeInput, 'actor'> | null>()
  const parse = (text: string): Omit<AuthorizeInput, 'actor'> | null => {
    let input = parsed.get(text)
    if (input !== undefined) return input
    input = null
    try {
      const body = secureJson.parse(text, undefined, JSON_PARSE_OPTIONS) as unknown
      if (valid(body)) {
        const b = body as z.output<typeof authorizeBody>
        const r = b.auth_requirement
        if (r.provider_type === undefined || r.provider_type === 'oauth2') {
          input = {
            userId: b.user_id,
            provider: { id: r.id, provider_id: r.provider_id },
            scopes: r.oauth2?.scopes ?? [],
            mcpServerUrl: r.mcp?.server_url ?? undefined,
            nextUri: b.next_uri ?? undefined,
            account: b.account,
          }
        }
      }
    } catch {
      // Not JSON (or prototype poisoning): the route's parser answers it.
    }
    if (text.length <= MEMO_BODY_MAX) {
      if (parsed.size >= MEMO_ENTRIES) parsed.clear()
      parsed.set(text, input)
    }
    return input
  }

  const answer = (req: IncomingMessage, res: ServerResponse, key: VerifiedKey, raw: Buffer, started: number): void => {
    const input = parse(raw.toString('utf8'))
    if (input === null) {
      fastify(replay(req, raw, key), res)
      return
    }
    let prepared: string | undefined
    try {
      prepared = preparedFor(input, key.id)
    } catch {
      // The route throws the same error for the same body, and renders it.
      prepared = undefined
    }
    if (prepared === undefined) {
      fastify(replay(req, raw, key), res)
      return
    }
    res.writeHead(200, {
      'cache-control': 'no-store',
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(prepared),
    })
    res.end(prepared)
    const ms = performance.now() - started
    record(200, ms)
    if (debug) {
      const reqId = nextRequestId()
      const ip = trustProxy ? undefined : req.socket.remoteAddress
      log.debug({ req: { method: 'POST', url: PATH, id: reqId, ip }, res, reqId, ms: Math.round(ms) }, 'request')
    }
  }

  return (req, res) => {
    if (req.url !== PATH || req.method !== 'POST' || closing()) {
      fastify(req, res)
      return
    }
    const key = apiKeys.cached(req.headers.authorization)
    // An unknown key is verified (and a failure counted) by the guard; a limited key answered there.
    if (key === undefined || limiter.take(key.id) > 0) {
      fastify(req, res)
      return
    }
    const admitted = req as AdmittedRequest
    admitted[ADMITTED] = key
    const type = req.headers['content-type']
    const length = Number(req.headers['content-length'])
    if (
      (type !== 'application/json' && type !== 'application/json; charset=utf-8') ||
      !(length > 0 && length <= bodyLimit) ||
      req.headers['transfer-encoding'] !== undefined
    ) {
      fastify(req, res)
      return
    }
    const started = performance.now()
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A client gone mid-body: no 'end', nothing to answer, and no 'error' either (a request
    // emits it only to a listener): the socket's close ends it, as for Fastify.
    req.on('end', () => {
      answer(req, res, key, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), started)
    })
  }
}

/**
 * The request as it arrived, with its body still to be read: what Fastify's handler gets when
 * this path has read the body and will not answer.
 */
function replay(req: IncomingMessage, body: Buffer, key: VerifiedKey): AdmittedRequest {
  const again = new IncomingMessage(req.socket) as AdmittedRequest
  again.method = req.method
  again.url = req.url
  again.headers = req.headers
  again.rawHeaders = req.rawHeaders
  again.httpVersion = req.httpVersion
  again.httpVersionMajor = req.httpVersionMajor
  again.httpVersionMinor = req.httpVersionMinor
  again[ADMITTED] = key
  // As Node marks a request whose body has arrived: otherwise ending the stream destroys the socket.
  again.complete = true
  again.push(body)
  again.push(null)
  return again
}
