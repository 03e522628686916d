/**
 * @module client/errors
 * Typed errors of the client SDK. HTTP errors carry the server's `{ name, message }`; the
 * class tells the status (same names as Arcade's SDK, so code ports over).
 */
import type { FlowFailureCode } from './failure-codes.js'

export class LatchkeyClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = this.constructor.name
  }
}

/** A non-2xx answer from the server. */
export class APIError extends LatchkeyClientError {
  readonly status: number
  /** The server's error code (`FLOW_NOT_FOUND`, `UNAUTHENTICATED`, …). */
  readonly code: string | undefined
  readonly body: unknown

  constructor(status: number, body: unknown) {
    const b = body as { name?: unknown; message?: unknown } | undefined
    const message = typeof b?.message === 'string' ? b.message : typeof body === 'string' && body ? body : `HTTP ${status}`
    super(`${status} ${message}`)
    this.status = status
    this.code = typeof b?.name === 'string' ? b.name : undefined
    this.body = body
  }

  static from(status: number, body: unknown): APIError {
    const Cls =
      status === 400
        ? BadRequestError
        : status === 401
          ? AuthenticationError
          : status === 403
            ? PermissionDeniedError
            : status === 404
              ? NotFoundError
              : status === 409
                ? ConflictError
                : status === 413
                  ? PayloadTooLargeError
                  : status === 422
                    ? UnprocessableEntityError
                    : status === 429
                      ? RateLimitError
                      : status >= 500
                        ? InternalServerError
                        : APIError
    return new Cls(status, body)
  }
}

export class BadRequestError extends APIError {}
export class AuthenticationError extends APIError {}
export class PermissionDeniedError extends APIError {}
export class NotFoundError extends APIError {}
export class ConflictError extends APIError {}
export class PayloadTooLargeError extends APIError {}
export class UnprocessableEntityError extends APIError {}
export class RateLimitError extends APIError {}
export class InternalServerError extends APIError {}

/** The server could not be reached (or did not answer in time). */
export class APIConnectionError extends LatchkeyClientError {}

/** `waitForCompletion`: the authorization ended without a token (declined, expired, user mismatch…). */
export class AuthorizationFailedError extends LatchkeyClientError {
  constructor(
    readonly authorization: { id?: string | undefined; status?: string | undefined; error?: { code: string; message: string } | undefined },
  ) {
    super(
      `authorization ${authorization.id ?? ''} ${authorization.status ?? 'failed'}: ${authorization.error?.message ?? 'no token was granted'}`,
    )
  }

  /**
   * Why it failed: one of `FLOW_FAILURE_CODES` (`access_denied`, `expired`, `user_mismatch`, …).
   * Typed open-ended, as a newer server may send a code this SDK does not list.
   */
  get reason(): FlowFailureCode | (string & {}) {
    return this.authorization.error?.code ?? 'failed'
  }
}

/** `waitForCompletion`: the user did not finish within `timeoutMs`. */
export class AuthorizationTimeoutError extends LatchkeyClientError {
  constructor(
    readonly authorizationId: string,
    readonly timeoutMs: number,
  ) {
    super(`authorization ${authorizationId} did not complete within ${timeoutMs} ms`)
  }
}
