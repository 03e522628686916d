/**
 * @module http/guard
 * API-key authentication, role check, per-key rate limit and the per-address limit on failed
 * attempts, as one onRequest hook factory for the API scopes. The hosted pages and the OAuth callback are outside these scopes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKeyRole, ApiKeys, VerifiedKey } from '../broker/api-keys.js'
import { LatchkeyError } from '../errors.js'
import type { AuthFailures } from './auth-failures.js'

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: VerifiedKey | undefined
  }
}

/** Fixed one-minute windows per key; per process (each process enforces its own share). */
export class RateLimiter {
  #windows = new Map<string, { start: number; count: number }>()
  constructor(readonly perMinute: number) {}

  /** Returns 0 when allowed, else the seconds to wait. */
  take(key: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0
    let w = this.#windows.get(key)
    if (!w || now - w.start >= 60_000) {
      if (this.#windows.size > 10_000) this.#windows.clear()
      w = { start: now, count: 0 }
      this.#windows.set(key, w)
    }
    if (++w.count <= this.perMinute) return 0
    return Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000))
  }
}

export function requireKey(apiKeys: ApiKeys, limiter: RateLimiter, failures: AuthFailures, role: ApiKeyRole) {
  /** Role and rate limit for a verified key; the error (if any) goes to Fastify's `done`. */
  const admit = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void, key: VerifiedKey): void => {
    if (role === 'admin' && key.role !== 'admin') {
      done(new LatchkeyError('FORBIDDEN', 'this endpoint needs an admin API key'))
      return
    }
    const wait = limiter.take(key.id)
    if (wait > 0) {
      void reply.header('retry-after', String(wait))
      done(new LatchkeyError('RATE_LIMITED', `rate limit of ${limiter.perMinute} requests per minute exceeded; retry in ${wait} s`))
      return
    }
    request.apiKey = key
    done()
  }
  // Callback style: a key verified in the last seconds is admitted synchronously (the hot path,
  // which never looks at the failure limiter); otherwise it is checked against the database,
  // unless the client address has failed too often (then no hashing and no query for it). A key
  // this process verified before still passes a blocked address: an app behind the same NAT as a
  // key-guesser keeps working when its cache entry lapses.
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const header = request.headers.authorization
    const hit = apiKeys.cached(header)
    if (hit) {
      admit(request, reply, done, hit)
      return
    }
    const address = request.ip
    const blocked = failures.blockedFor(address)
    if (blocked > 0 && !apiKeys.seen(header)) {
      void reply.header('retry-after', String(blocked))
      done(
        new LatchkeyError(
          'RATE_LIMITED',
          `too many failed API-key attempts from this address (limit ${failures.perMinute} per minute); retry in ${blocked} s`,
        ),
      )
      return
    }
    apiKeys.verify(header).then(
      (key) => admit(request, reply, done, key),
      (err: unknown) => {
        if (err instanceof LatchkeyError && err.code === 'UNAUTHENTICATED') failures.fail(address)
        done(err as Error)
      },
    )
  }
}
