/**
 * @module http/error-handler
 * Turns every error into Arcade's `{ name, message }` body. Our own errors keep their code and
 * status; Fastify's client errors (bad JSON, too large, wrong media type) become 4xx with a
 * clear message; anything else is a 500 with a request id and no internal detail.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ZodError } from 'zod'
import { formatPath } from '../config.js'
import { ERROR_CODES, type ErrorCode, type ErrorSpec, LatchkeyError } from '../errors.js'
import { isStoreUnavailable } from '../storage/unavailable.js'
import { describeIssue, type SchemaIssue } from './schema.js'

const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['BAD_REQUEST', 'content-length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['BAD_REQUEST', 'request body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['BAD_REQUEST', 'request body is not valid JSON'],
  FST_ERR_BAD_URL: ['BAD_REQUEST', 'the URL is not validly percent-encoded'],
  FST_ERR_MAX_PARAM_LENGTH: ['NOT_FOUND', 'no such resource (path parameter too long)'],
}

export function toLatchkeyError(err: unknown): LatchkeyError | undefined {
  if (err instanceof LatchkeyError) return err
  if (err instanceof ZodError) {
    const issues = err.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`)
    return new LatchkeyError('BAD_REQUEST', `invalid request: ${issues.join('; ')}`)
  }
  const fe = err as Partial<FastifyError>
  if (fe.code === 'FST_ERR_VALIDATION' && Array.isArray(fe.validation) && fe.validation.length > 0) {
    // ajv stops at the first failure; what follows it are the "or null" branches of optional fields.
    return new LatchkeyError('BAD_REQUEST', `invalid request: ${describeIssue(fe.validation[0] as SchemaIssue)}`)
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped) return new LatchkeyError(mapped[0], mapped[1])
  if (err instanceof SyntaxError && (fe.statusCode === 400 || /JSON/.test(err.message)))
    return new LatchkeyError('BAD_REQUEST', 'request body is not valid JSON')
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: ErrorCode =
      fe.statusCode === 413
        ? 'PAYLOAD_TOO_LARGE'
        : fe.statusCode === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : fe.statusCode === 404
            ? 'NOT_FOUND'
            : 'BAD_REQUEST'
    return new LatchkeyError(code, 'bad request')
  }
  return undefined
}

/** The statuses Arcade's SDKs retry on their own (wire doc §9: 408, 409, 429 and 5xx). */
const sdkRetries = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const known = toLatchkeyError(err)
  if (known?.expose) {
    // A database outage is logged once when it starts and once when it ends (storage/unavailable.ts),
    // not once per request: during an outage every request fails the same way.
    if (known.status >= 500 && !isStoreUnavailable(known)) request.log.warn({ code: known.code, reqId: request.id }, known.message)
    const spec: ErrorSpec = ERROR_CODES[known.code]
    // Arcade's SDKs honour `retry-after-ms` (then `retry-after`) and retry 5xx twice by default:
    // a delay spreads a fleet of agents' retries over a short outage instead of hammering it.
    if (spec.retryAfterSeconds !== undefined) {
      void reply
        .header('retry-after', String(spec.retryAfterSeconds))
        .header('retry-after-ms', String(spec.retryAfterSeconds * 1000))
        .header('x-should-retry', 'true')
    }
    // Arcade's SDKs retry 408/409/429/5xx: tell them not to retry what will not change.
    if (!spec.retry && sdkRetries(known.status)) void reply.header('x-should-retry', 'false')
    void reply.status(known.status).send({ name: known.code, message: known.message, ...known.extra })
    return
  }
  request.log.error({ err, reqId: request.id }, 'unexpected error')
  void reply.status(500).send({ name: 'SERVER_ERROR', message: `internal error (request id ${request.id})` })
}
