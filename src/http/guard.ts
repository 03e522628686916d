/**
 * @module http/guard
 * API-key authentication, role check, per-key rate limit and the per-address limit on failed
 * attempts, as one onRequest hook factory for the API scopes. The hosted pages and the OAuth callback are outside these scopes.
 */
import type { IncomingMessage } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKeyRole, ApiKeys, VerifiedKey } from '../broker/api-keys.js'
import type { DashboardSession, DashboardSessions } from '../broker/dashboard-sessions.js'
import { LatchkeyError } from '../errors.js'
import type { AuthFailures } from './auth-failures.js'

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: VerifiedKey | undefined
    /** Set when an admin request was authenticated by a dashboard session cookie. */
    dashboardSession: DashboardSession | undefined
  }
}

/** How the admin scope also accepts the dashboard's session cookie (`http/routes/dashboard.ts`). */
export interface DashboardGuard {
  sessions: DashboardSessions
  cookieName: string
  /** This server's origin: a change must come from a page of it. */
  origin: string
}

export const CSRF_HEADER = 'x-latchkey-csrf'

/**
 * Set by the fast path (`fast-authorize.ts`) on a runtime request it admitted — key found in the
 * verified-key cache, rate limit counted — and then handed to Fastify: the guard admits it as is.
 */
export const ADMITTED = Symbol('latchkey.admitted')
export type AdmittedRequest = IncomingMessage & { [ADMITTED]?: VerifiedKey }

/** The value of cookie `name` in a Cookie header (first occurrence), without parsing the rest. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * Admits a request carrying no Authorization header but a dashboard session cookie, as the
 * session's operator (its actor, `dashboard:<key id>` for an API-key session, an admin). A request that changes anything must also
 * carry the session's CSRF token in `x-latchkey-csrf` and, when the browser says where it comes
 * from, come from this origin.
 */
function admitSession(
  dashboard: DashboardGuard,
  secret: string,
  request: FastifyRequest,
  done: (err?: Error) => void,
  admit: (key: VerifiedKey, rateKey: string) => void,
): void {
  dashboard.sessions.verify(secret).then(
    (session) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        const header = request.headers[CSRF_HEADER]
        const origin = request.headers.origin
        const site = request.headers['sec-fetch-site']
        if (
          !dashboard.sessions.csrfMatches(session, typeof header === 'string' ? header : undefined) ||
          (origin !== undefined && origin !== dashboard.origin) ||
          (site !== undefined && site !== 'same-origin')
        ) {
          done(
            new LatchkeyError('FORBIDDEN', `missing or wrong CSRF token: a change from the dashboard must send the ${CSRF_HEADER} header`),
          )
          return
        }
      }
      request.dashboardSession = session
      // Rate-limited as its API key: signing in does not add a second allowance to the key's.
      // A session without a key (another principal) has its actor as its bucket.
      admit({ id: session.actor, role: 'admin' }, session.keyId ?? session.actor)
    },
    (err: unknown) => done(err as Error),
  )
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

export function requireKey(apiKeys: ApiKeys, limiter: RateLimiter, failures: AuthFailures, role: ApiKeyRole, dashboard?: DashboardGuard) {
  /** Role and rate limit for a verified key; the error (if any) goes to Fastify's `done`. */
  const admit = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void, key: VerifiedKey, rateKey = key.id): void => {
    if (role === 'admin' && key.role !== 'admin') {
      done(new LatchkeyError('FORBIDDEN', 'this endpoint needs an admin API key'))
      return
    }
    const wait = limiter.take(rateKey)
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
    // Admitted by the fast path: verified and counted there; the role is checked here all the
    // same, so marking a request of an admin route could never let a runtime key in.
    const admitted = (request.raw as AdmittedRequest)[ADMITTED]
    if (admitted !== undefined) {
      if (role === 'admin' && admitted.role !== 'admin') {
        done(new LatchkeyError('FORBIDDEN', 'this endpoint needs an admin API key'))
        return
      }
      request.apiKey = admitted
      done()
      return
    }
    const header = request.headers.authorization
    // The dashboard's cookie is looked at only on admin routes and only without an API key.
    if (dashboard && header === undefined) {
      const secret = cookieValue(request.headers.cookie, dashboard.cookieName)
      if (secret !== undefined) {
        admitSession(dashboard, secret, request, done, (key, rateKey) => {
          // What a browser fetched with the cookie (JSON, the CSV export) is never sniffed as
          // script or style, nor loaded by another site's page (a sibling subdomain is same-site).
          void reply.header('x-content-type-options', 'nosniff').header('cross-origin-resource-policy', 'same-origin')
          admit(request, reply, done, key, rateKey)
        })
        return
      }
    }
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
