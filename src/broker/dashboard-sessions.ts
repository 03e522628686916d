/**
 * @module broker/dashboard-sessions
 * Sign-in sessions of the admin dashboard. An operator signs in with an admin API key; the
 * session is a random 256-bit secret in a cookie, stored only as its SHA-256 in
 * `dashboard_sessions` (so any process on the database accepts it, and a sign-out, the key's
 * revocation or its expiry ends it on all of them). The CSRF token is derived from the secret
 * (SHA-256 of a prefix and the secret): the page gets it from `GET /dashboard/session` and sends
 * it in a header on every change, which another site cannot read or forge.
 *
 * A session ends after `idleMinutes` without a request, after `sessionHours` in any case, at
 * sign-out, and when its API key is revoked or expires. The sign-in method is a detail of
 * `signIn`: another one (the operator's own OIDC provider) would verify its principal and create
 * the same row, with the principal in place of the key id.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { LatchkeyError } from '../errors.js'
import type { DashboardStore } from '../storage/dashboard-store.js'
import type { ApiKeys } from './api-keys.js'
import type { AuditLog } from './audit.js'

export interface DashboardSession {
  /** The session row's id (hash of the secret). */
  id: string
  keyId: string
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
    const secret = randomBytes(32).toString('base64url')
    const now = Date.now()
    const row = {
      id: hash(secret),
      key_id: key.id,
      created_at: now,
      last_seen_at: now,
      expires_at: now + this.options.sessionHours * 3_600_000,
      revoked_at: null,
    }
    await this.store.insertSession(row)
    // Ended sessions are kept a day (for the audit's sake nothing needs them longer); a sign-in sweeps them.
    await this.store.deleteEndedSessions(now - 86_400_000)
    this.audit.record({ actor: dashboardActor(key.id), action: 'dashboard.signed_in', detail: { method: 'api_key', key_id: key.id } })
    return { secret, session: this.#view(secret, row.id, key.id, row.expires_at, now) }
  }

  /** The live session for a cookie secret, or an UNAUTHENTICATED error saying why there is none. */
  async verify(secret: string): Promise<DashboardSession> {
    if (!SECRET.test(secret)) throw new LatchkeyError('UNAUTHENTICATED', 'not signed in to the dashboard')
    const id = hash(secret)
    const row = await this.store.getSession(id)
    const now = Date.now()
    if (!row || row.revoked_at !== null) throw new LatchkeyError('UNAUTHENTICATED', 'not signed in to the dashboard')
    if (row.expires_at <= now || row.last_seen_at + this.idleMs <= now) {
      throw new LatchkeyError('UNAUTHENTICATED', 'the dashboard session has expired; sign in again')
    }
    if (row.key_revoked_at !== null || (row.key_expires_at !== null && row.key_expires_at <= now) || row.key_role !== 'admin') {
      throw new LatchkeyError('UNAUTHENTICATED', 'the API key of this dashboard session was revoked or has expired; sign in again')
    }
    let lastSeen = row.last_seen_at
    if (now - row.last_seen_at >= TOUCH_MS) {
      await this.store.touchSession(id, now)
      lastSeen = now
    }
    return this.#view(secret, id, row.key_id, row.expires_at, lastSeen)
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
      this.audit.record({ actor: session.actor, action: 'dashboard.signed_out', detail: { key_id: session.keyId } })
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
    if (row && (await this.store.revokeSession(id, Date.now()))) {
      this.audit.record({
        actor: dashboardActor(row.key_id),
        action: 'dashboard.signed_out',
        detail: { key_id: row.key_id, reason: 'replaced' },
      })
    }
  }

  #view(secret: string, id: string, keyId: string, expiresAt: number, lastSeen: number): DashboardSession {
    return {
      id,
      keyId,
      actor: dashboardActor(keyId),
      csrf: csrfFor(secret),
      expiresAt,
      idleExpiresAt: Math.min(expiresAt, lastSeen + this.idleMs),
    }
  }
}
