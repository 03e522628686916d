/**
 * @module storage/dashboard-store
 * What the admin dashboard needs of the database beyond the core store: its sign-in sessions
 * (migration 0011-dashboard-sessions) and the read-only queries behind the overview and the
 * authorizations page (flows by status, audit counts per hour). One implementation for both
 * dialects, on the same guarded Kysely instance as `kysely-store.ts`, so an outage is
 * classified the same way. Nothing here is on the token hot path.
 */
import { type Kysely, sql } from 'kysely'
import type { AuditEntry } from './store.js'

/**
 * Who signed in (0013-dashboard-session-principal): an admin API key (`key_id` set, the session
 * ends with the key), or the operator's own OIDC provider (`subject` set: its issuer and subject).
 */
export type DashboardPrincipal = 'api_key' | 'oidc'

export interface DashboardSessionRow {
  /** SHA-256 (hex) of the cookie's secret. */
  id: string
  principal: DashboardPrincipal
  /** The admin API key signed in with (principal `api_key`), else null. */
  key_id: string | null
  /** The OIDC principal (principal `oidc`), else null. */
  subject: string | null
  created_at: number
  last_seen_at: number
  expires_at: number
  revoked_at: number | null
}

/**
 * A session joined with its API key's state, when it has one: revoking or expiring the key ends
 * its sessions. `key_role` is null for a session without a key, or whose key row is gone.
 */
export interface DashboardSessionWithKey extends DashboardSessionRow {
  key_role: 'admin' | 'runtime' | null
  key_revoked_at: number | null
  key_expires_at: number | null
}

/** A flow as the dashboard lists it: never its state, verifier, grant or any other secret. */
export interface FlowSummary {
  id: string
  user_id: string
  provider_id: string
  status: 'pending' | 'completed' | 'failed'
  scopes: string[]
  requested_scopes: string[]
  error: string | null
  error_description: string | null
  connection_id: string | null
  opened_at: number | null
  callback_at: number | null
  created_at: number
  expires_at: number
  completed_at: number | null
}

export interface FlowListFilter {
  status?: 'pending' | 'failed' | 'completed' | undefined
  user_id?: string | undefined
  provider_id?: string | undefined
  connection_id?: string | undefined
}

interface Tables {
  dashboard_sessions: DashboardSessionRow
  api_keys: { id: string; role: 'admin' | 'runtime'; revoked_at: number | null; expires_at: number | null }
  flows: Omit<FlowSummary, 'scopes' | 'requested_scopes'> & { scopes: string; requested_scopes: string }
  audit_log: {
    id: string
    at: number
    actor: string | null
    action: string
    user_id: string | null
    provider_id: string | null
    connection_id: string | null
    detail: string | null
  }
}

const HOUR_MS = 3_600_000

export class DashboardStore {
  readonly #db: Kysely<Tables>

  // biome-ignore lint/suspicious/noExplicitAny: the core store's Kysely instance, typed by its own schema
  constructor(db: Kysely<any>) {
    this.#db = db as Kysely<Tables>
  }

  async insertSession(row: DashboardSessionRow): Promise<void> {
    await this.#db.insertInto('dashboard_sessions').values(row).execute()
  }

  async getSession(id: string): Promise<DashboardSessionWithKey | undefined> {
    const r = await this.#db
      .selectFrom('dashboard_sessions as s')
      // A left join: a session of another principal (OIDC) has no key. Whether a key session's key
      // is still good is the caller's check (`DashboardSessions.verify`).
      .leftJoin('api_keys as k', 'k.id', 's.key_id')
      .select([
        's.id',
        's.principal',
        's.key_id',
        's.subject',
        's.created_at',
        's.last_seen_at',
        's.expires_at',
        's.revoked_at',
        'k.role as key_role',
        'k.revoked_at as key_revoked_at',
        'k.expires_at as key_expires_at',
      ])
      .where('s.id', '=', id)
      .executeTakeFirst()
    if (!r) return undefined
    return {
      ...r,
      created_at: Number(r.created_at),
      last_seen_at: Number(r.last_seen_at),
      expires_at: Number(r.expires_at),
      revoked_at: r.revoked_at === null ? null : Number(r.revoked_at),
      key_revoked_at: r.key_revoked_at === null ? null : Number(r.key_revoked_at),
      key_expires_at: r.key_expires_at === null ? null : Number(r.key_expires_at),
    }
  }

  async touchSession(id: string, at: number): Promise<void> {
    await this.#db
      .updateTable('dashboard_sessions')
      .set({ last_seen_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute()
  }

  /** True when the session was live and is now ended. */
  async revokeSession(id: string, at: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('dashboard_sessions')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  /** Removes sessions that ended (expired or revoked) before `before`. */
  async deleteEndedSessions(before: number): Promise<number> {
    const r = await this.#db
      .deleteFrom('dashboard_sessions')
      .where((eb) => eb.or([eb('expires_at', '<', before), eb('revoked_at', '<', before)]))
      .executeTakeFirst()
    return Number(r.numDeletedRows)
  }

  async listFlows(filter: FlowListFilter, limit: number, offset: number): Promise<{ items: FlowSummary[]; total: number }> {
    let q = this.#db.selectFrom('flows')
    if (filter.status !== undefined) q = q.where('status', '=', filter.status)
    if (filter.user_id !== undefined) q = q.where('user_id', '=', filter.user_id)
    if (filter.provider_id !== undefined) q = q.where('provider_id', '=', filter.provider_id)
    if (filter.connection_id !== undefined) q = q.where('connection_id', '=', filter.connection_id)
    const [rows, count] = await Promise.all([
      q
        .select([
          'id',
          'user_id',
          'provider_id',
          'status',
          'scopes',
          'requested_scopes',
          'error',
          'error_description',
          'connection_id',
          'opened_at',
          'callback_at',
          'created_at',
          'expires_at',
          'completed_at',
        ])
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ])
    const num = (v: number | null) => (v === null ? null : Number(v))
    return {
      items: rows.map((r) => ({
        ...r,
        scopes: JSON.parse(r.scopes) as string[],
        requested_scopes: JSON.parse(r.requested_scopes) as string[],
        opened_at: num(r.opened_at),
        callback_at: num(r.callback_at),
        created_at: Number(r.created_at),
        expires_at: Number(r.expires_at),
        completed_at: num(r.completed_at),
      })),
      total: Number(count.n),
    }
  }

  /** Audit entries of `actions` since `since`, counted per hour (hour = floor(at / 1 h)). */
  async countAuditPerHour(actions: string[], since: number): Promise<Array<{ action: string; hour: number; n: number }>> {
    const hour = sql<number>`(${sql.ref('at')} / ${sql.lit(HOUR_MS)})`
    const rows = await this.#db
      .selectFrom('audit_log')
      .select(['action', hour.as('hour'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('action', 'in', actions)
      .where('at', '>=', since)
      .groupBy(['action', hour])
      .execute()
    return rows.map((r) => ({ action: r.action, hour: Math.floor(Number(r.hour)), n: Number(r.n) }))
  }

  /** The newest audit entries of `actions` since `since` (at most `limit`), for grouping by a detail field. */
  async listAuditActions(actions: string[], since: number, limit: number): Promise<AuditEntry[]> {
    const rows = await this.#db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', 'in', actions)
      .where('at', '>=', since)
      .orderBy('at', 'desc')
      .limit(limit)
      .execute()
    return rows.map((r) => ({
      ...r,
      at: Number(r.at),
      detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    }))
  }
}
