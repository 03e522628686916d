/**
 * @module broker/dashboard-sessions
 * Sign-in sessions of the admin dashboard. The session is a random 256-bit secret in a cookie,
 * stored only as its SHA-256 in `dashboard_sessions` (so any process on the database accepts it,
 * and a sign-out ends it on all of them). The CSRF token is derived from the secret (SHA-256 of a
 * prefix and the secret): the page gets it from `GET /dashboard/session` and sends it in a header
 * on every change, which another site cannot read or forge.
 *
 * A session carries its principal (0013-dashboard-session-principal):
 * - `api_key`: signed in with an admin API key (`signIn`, the only sign-in route today); actor
 *   `dashboard:<key id>`; the key's revocation, expiry or loss of the admin role ends it.
 * - `oidc`: the operator's own OIDC provider; actor `dashboard:oidc:<subject>`. Nothing signs one
 *   in yet. Adding it takes a sign-in route (redirect to the provider, callback, ID-token check,
 *   who may be an operator) that calls `open({ kind: 'oidc', subject })` once it has verified
 *   the person, and the configuration of that provider: `verify`, the admin guard, CSRF, the
 *   audit actor, sign-out and the pages need no change.
 *
 * Every session ends after `idleMinutes` without a request, after `sessionHours` in any case and
 * at sign-out.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { LatchkeyError } from '../errors.js'
import type { DashboardSessionRow, DashboardStore } from '../storage/dashboard-store.js'
import type { ApiKeys } from './api-keys.js'
import type { AuditLog } from './audit.js'

/** Who a session is for: what `open` is given once the sign-in method has verified the person. */
export type DashboardPrincipal = { kind: 'api_key'; keyId: string } | { kind: 'oidc'; subject: string }

export interface DashboardSession {
  /** The session row's id (hash of the secret). */
  id: string
  principal: DashboardPrincipal['kind']
  /** The admin API key of an `api_key` session (its rate-limit bucket too), else null. */
  keyId: string | null
  /** The actor recorded for everything done in this session. */
  actor: string
  csrf: string
  expiresAt: number
  idleExpiresAt: number
}

/** Written at most this often per session: the idle clock is minute-accurate. */
const TOUCH_MS = 30_000

/** A cookie secret: 32 random bytes, base64url. */
const SECRET = /^[A-Za-z0-9_-]{43}$/
const hash = (secret: string) => createHash('sha256').update(secret).digest('hex')
const csrfFor = (secret: string) => createHash('sha256').update(`latchkey-dashboard-csrf\u0000${secret}`).digest('base64url')

export const dashboardActor = (keyId: string) => `dashboard:${keyId}`
/** The audit actor of a principal: `dashboard:<key id>` or `dashboard:oidc:<subject>`. */
export const principalActor = (p: DashboardPrincipal) => (p.kind === 'api_key' ? dashboardActor(p.keyId) : `dashboard:oidc:${p.subject}`)

/** The principal a stored session names (the row's check constraint keeps the pair consistent). */
function principalOf(row: Pick<DashboardSessionRow, 'principal' | 'key_id' | 'subject'>): DashboardPrincipal | undefined {
  if (row.principal === 'api_key' && row.key_id !== null) return { kind: 'api_key', keyId: row.key_id }
  if (row.principal === 'oidc' && row.subject !== null) return { kind: 'oidc', subject: row.subject }
  return undefined
}

export class DashboardSessions {
  constructor(
    private readonly store: DashboardStore,
    private readonly apiKeys: ApiKeys,
    private readonly audit: AuditLog,
    private readonly options: { idleMinutes: number; sessionHours: number },
  ) {}

  get idleMs(): number {
    return this.options.idleMinutes * 60_000
  }

  /** Verifies an admin API key and opens a session; returns the cookie secret and the session. */
  async signIn(apiKey: string): Promise<{ secret: string; session: DashboardSession }> {
    const key = await this.apiKeys.verify(apiKey)
    if (key.role !== 'admin') throw new LatchkeyError('FORBIDDEN', 'the dashboard needs an admin API key')
    return this.open({ kind: 'api_key', keyId: key.id })
  }

  /**
   * Opens a session for a principal its sign-in method has already verified (an admin API key
   * in `signIn`; an OIDC sign-in route would call it after checking the ID token).
   */
  async open(principal: DashboardPrincipal): Promise<{ secret: string; session: DashboardSession }> {
    const secret = randomBytes(32).toString('base64url')
    const now = Date.now()
    const row: DashboardSessionRow = {
      id: hash(secret),
      principal: principal.kind,
      key_id: principal.kind === 'api_key' ? principal.keyId : null,
      subject: principal.kind === 'oidc' ? principal.subject : null,
      created_at: now,
      last_seen_at: now,
      expires_at: now + this.options.sessionHours * 3_600_000,
      revoked_at: null,
    }
    await this.store.insertSession(row)
    // Ended sessions are kept a day (for the audit's sake nothing needs them longer); a sign-in sweeps them.
    await this.store.deleteEndedSessions(now - 86_400_000)
    this.audit.record({ actor: principalActor(principal), action: 'dashboard.signed_in', detail: signInDetail(principal) })
    return { secret, session: this.#view(secret, row.id, principal, row.expires_at, now) }
  }

  /** The live session for a cookie secret, or an UNAUTHENTICATED error saying why there is none. */
  async verify(secret: string): Promise<DashboardSession> {
    if (!SECRET.test(secret)) throw new LatchkeyError('UNAUTHENTICATED', 'not signed in to the dashboard')
    const id = hash(secret)
    const row = await this.store.getSession(id)
    const now = Date.now()
    const principal = row && principalOf(row)
    if (!row || !principal || row.revoked_at !== null) throw new LatchkeyError('UNAUTHENTICATED', 'not signed in to the dashboard')
    if (row.expires_at <= now || row.last_seen_at + this.idleMs <= now) {
      throw new LatchkeyError('UNAUTHENTICATED', 'the dashboard session has expired; sign in again')
    }
    // An API-key session lives only as long as its key is a live admin key (a deleted key row reads as no role).
    if (
      principal.kind === 'api_key' &&
      (row.key_revoked_at !== null || (row.key_expires_at !== null && row.key_expires_at <= now) || row.key_role !== 'admin')
    ) {
      throw new LatchkeyError('UNAUTHENTICATED', 'the API key of this dashboard session was revoked or has expired; sign in again')
    }
    let lastSeen = row.last_seen_at
    if (now - row.last_seen_at >= TOUCH_MS) {
      await this.store.touchSession(id, now)
      lastSeen = now
    }
    return this.#view(secret, id, principal, row.expires_at, lastSeen)
  }

  /** Whether `presented` is this session's CSRF token (constant time). */
  csrfMatches(session: DashboardSession, presented: string | undefined): boolean {
    if (presented === undefined) return false
    const a = Buffer.from(session.csrf)
    const b = Buffer.from(presented)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  async signOut(session: DashboardSession): Promise<void> {
    if (await this.store.revokeSession(session.id, Date.now())) {
      this.audit.record({ actor: session.actor, action: 'dashboard.signed_out', detail: principalDetail(session) })
    }
  }

  /**
   * Ends the live session of `secret`, if any: a sign-in in a browser that still holds a session
   * cookie replaces that session instead of leaving it valid until its idle timeout.
   */
  async replace(secret: string): Promise<void> {
    if (!SECRET.test(secret)) return
    const id = hash(secret)
    const row = await this.store.getSession(id)
    const principal = row && principalOf(row)
    if (principal && (await this.store.revokeSession(id, Date.now()))) {
      this.audit.record({
        actor: principalActor(principal),
        action: 'dashboard.signed_out',
        detail: { ...principalDetail({ principal: principal.kind, keyId: row.key_id }), reason: 'replaced' },
      })
    }
  }

  #view(secret: string, id: string, principal: DashboardPrincipal, expiresAt: number, lastSeen: number): DashboardSession {
    return {
      id,
      principal: principal.kind,
      keyId: principal.kind === 'api_key' ? principal.keyId : null,
      actor: principalActor(principal),
      csrf: csrfFor(secret),
      expiresAt,
      idleExpiresAt: Math.min(expiresAt, lastSeen + this.idleMs),
    }
  }
}

/** What a sign-in's audit entry says: `{ method: 'api_key', key_id }` as before, or `{ method: 'oidc' }` (the subject is the actor). */
function signInDetail(p: DashboardPrincipal): Record<string, unknown> {
  return p.kind === 'api_key' ? { method: 'api_key', key_id: p.keyId } : { method: 'oidc' }
}

/** A sign-out's detail: the key of an API-key session (as before), the method otherwise. */
function principalDetail(s: Pick<DashboardSession, 'principal' | 'keyId'>): Record<string, unknown> {
  return s.principal === 'api_key' ? { key_id: s.keyId } : { method: s.principal }
}
