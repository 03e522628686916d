/**
 * @module broker/audit
 * The audit trail: who (API key id), what (action), when, for which user, provider and
 * connection; never a secret. Entries are buffered and written in batches so recording every
 * token hand-out costs the hot path a map update, not a database write. Hand-outs of the same
 * connection's token to the same API key within one flush window (200 ms) become one
 * `token.issued` entry with `detail.count` and `detail.last_at`.
 *
 * Nothing recorded is dropped because a write failed. Entries that cannot be written (a
 * database outage) stay in a backlog, retried with backoff (100 ms doubling to 5 s) until they
 * are stored; the insert is idempotent (by entry id), so a batch whose commit was not
 * acknowledged can be sent again. The backlog is bounded (`LATCHKEY_AUDIT_BUFFER_MAX` entries,
 * default 100 000). When it is full, Latchkey fails closed: a token hand-out that would need a new
 * entry is refused with 503 (`latchkey_audit_refused_total`) rather than handed out unaudited; a
 * hand-out that joins an open `token.issued` aggregate costs no entry and is still served. Other
 * entries, which only follow a successful database write and so hardly arise while it is down, are
 * dropped, counted (`latchkey_audit_dropped_total`) and logged. What a SIGKILL loses: SECURITY.md.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { LatchkeyError } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { AuditEntry, Store } from '../storage/store.js'
import { isStoreUnavailable } from '../storage/unavailable.js'

export type AuditAction =
  | 'token.issued'
  | 'proxy.request'
  | 'connection.created'
  | 'connection.updated'
  | 'connection.refreshed'
  | 'connection.refresh_failed'
  | 'connection.reauth_required'
  | 'connection.revoked'
  | 'flow.started'
  | 'flow.failed'
  | 'flow.user_confirmed'
  | 'flow.user_mismatch'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'provider.created'
  | 'provider.updated'
  | 'provider.deleted'
  | 'encryption.rotated'
  | 'encryption.version_forgotten'
  | 'branding.updated'
  // dashboard (issue 12): an operator signed in to or out of the admin dashboard
  | 'dashboard.signed_in'
  | 'dashboard.signed_out'
  // MCP servers (issue 13): a client registered at, or dropped by, an MCP authorization server.
  | 'mcp.client_registered'
  | 'mcp.client_dropped'
  | 'webhook.created'
  | 'webhook.updated'
  | 'webhook.deleted'
  | 'webhook.enabled'
  | 'webhook.secret_rotated'
  | 'webhook.redelivered'
  | 'webhook.endpoint_failing'

export interface AuditInput {
  actor?: string | null | undefined
  action: AuditAction
  user_id?: string | null | undefined
  provider_id?: string | null | undefined
  connection_id?: string | null | undefined
  detail?: Record<string, unknown> | null | undefined
}

export interface AuditOptions {
  /** How long hand-outs are aggregated before a write (ms). */
  flushMs?: number
  /** Entries held in memory while they cannot be written; beyond it, see the module comment. */
  maxBacklog?: number
  metrics?: Pick<Metrics, 'auditBacklog' | 'auditRefused' | 'auditDropped'> | undefined
}

/** Rows per insert: one statement each (SQLite allows 32766 variables; 8 columns × 500 is safe). */
const BATCH = 500

export class AuditLog {
  /** This window's entries (open `token.issued` aggregates among them). */
  #buffer: AuditEntry[] = []
  /** Closed entries waiting to be written, oldest first. */
  #backlog: AuditEntry[] = []
  /** Open `token.issued` aggregates of this window, by actor and connection. */
  #issued = new Map<string, AuditEntry & { detail: { count: number; last_at: string | number } }>()
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> | undefined
  #retry: NodeJS.Timeout | undefined
  #retryDelay = 0
  /** Since when writes have been failing (for the one log line when they succeed again). */
  #failingSince: number | undefined
  #full = false
  #droppedWhileFull = 0
  #seq = 0
  readonly #flushMs: number
  readonly #maxBacklog: number
  readonly #metrics: AuditOptions['metrics']

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    options: AuditOptions = {},
  ) {
    this.#flushMs = options.flushMs ?? 200
    this.#maxBacklog = options.maxBacklog ?? 100_000
    this.#metrics = options.metrics
  }

  /** Entries recorded and not yet stored. */
  get pending(): number {
    return this.#buffer.length + this.#backlog.length
  }

  /**
   * Records an entry (in memory; written within the flush window). Throws `UNAVAILABLE` for a
   * token hand-out that would need a new entry while the backlog is full: the caller must not
   * hand the token out.
   */
  record(input: AuditInput): void {
    const at = Date.now()
    if (input.action === 'token.issued' && input.connection_id) {
      const key = `${input.actor ?? ''}\u0000${input.connection_id}`
      const open = this.#issued.get(key)
      if (open) {
        open.detail.count++
        // A number until the flush turns it into an ISO date (once per entry, not per hand-out).
        open.detail.last_at = at
        return
      }
    }
    if (this.#buffer.length + this.#backlog.length >= this.#maxBacklog) {
      this.#overflow(input.action)
      return
    }
    const entry: AuditEntry = {
      // Time-ordered id: millisecond time, a per-process sequence, and randomness (32 bits: the
      // first 8 hex digits of a v4 UUID; randomUUID draws from a cached pool, randomBytes makes a
      // syscall-bound call every time, which showed up as ~15 % of the token hot path).
      id: `${at.toString(36).padStart(9, '0')}${(this.#seq++ % 46656).toString(36).padStart(3, '0')}${randomUUID().slice(0, 8)}`,
      at,
      actor: input.actor ?? null,
      action: input.action,
      user_id: input.user_id ?? null,
      provider_id: input.provider_id ?? null,
      connection_id: input.connection_id ?? null,
      detail: input.detail ?? null,
    }
    if (input.action === 'token.issued' && input.connection_id) {
      const aggregate = { ...entry, detail: { ...input.detail, count: 1, last_at: at as string | number } }
      this.#issued.set(`${input.actor ?? ''}\u0000${input.connection_id}`, aggregate)
      this.#buffer.push(aggregate)
    } else {
      this.#buffer.push(entry)
    }
    if (this.#buffer.length >= 1000) void this.flush()
    else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#flushMs)
      this.#timer.unref()
    }
  }

  #overflow(action: AuditAction): void {
    if (!this.#full) {
      this.#full = true
      this.log.error(
        { backlog: this.#backlog.length, max: this.#maxBacklog },
        'audit backlog full: refusing token hand-outs that need a new audit entry until it drains',
      )
    }
    if (action === 'token.issued') {
      this.#metrics?.auditRefused.inc()
      throw new LatchkeyError('UNAVAILABLE', 'the audit trail cannot be written right now, so no token is handed out; retry shortly')
    }
    this.#droppedWhileFull++
    this.#metrics?.auditDropped.inc({ action })
  }

  /**
   * Closes this window's aggregates and writes everything recorded so far. Resolves once it is
   * stored, or once the attempt failed (the entries stay in the backlog and are retried).
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const e of this.#issued.values()) e.detail.last_at = new Date(e.detail.last_at).toISOString()
    this.#issued.clear()
    if (this.#buffer.length > 0) {
      this.#backlog.push(...this.#buffer)
      this.#buffer = []
    }
    this.#metrics?.auditBacklog.set(this.#backlog.length)
    return this.#write()
  }

  /** One writer at a time; entries added meanwhile are picked up by the running loop. */
  #write(): Promise<void> {
    if (this.#writing) return this.#writing
    if (this.#backlog.length === 0) return Promise.resolve()
    clearTimeout(this.#retry)
    this.#retry = undefined
    this.#writing = this.#drain().finally(() => (this.#writing = undefined))
    return this.#writing
  }

  async #drain(): Promise<void> {
    while (this.#backlog.length > 0) {
      const batch = this.#backlog.slice(0, BATCH)
      try {
        await this.#append(batch)
      } catch (err) {
        if (this.#failingSince === undefined) {
          this.#failingSince = Date.now()
          // A database outage is logged by the store; this says what it means for the audit trail.
          this.log.error(
            { err: (err as Error).message, backlog: this.#backlog.length },
            'could not write audit entries; keeping them and retrying',
          )
        }
        this.#retryDelay = Math.min(Math.max(100, this.#retryDelay * 2), 5000)
        this.#retry = setTimeout(() => void this.#write(), this.#retryDelay)
        this.#retry.unref()
        return
      }
      this.#backlog.splice(0, batch.length)
      this.#metrics?.auditBacklog.set(this.#backlog.length)
    }
    this.#retryDelay = 0
    if (this.#failingSince !== undefined) {
      this.log.warn({ failedForMs: Date.now() - this.#failingSince }, 'audit backlog written')
      this.#failingSince = undefined
    }
    if (this.#full) {
      this.#full = false
      this.log.warn({ dropped: this.#droppedWhileFull }, 'audit backlog drained: token hand-outs are served again')
      this.#droppedWhileFull = 0
    }
  }

  /**
   * Writes a batch. A statement error that is not an outage (a row the database rejects) must not
   * hold every later entry back: the batch is then written row by row and only a rejected row is
   * dropped, counted and logged.
   */
  async #append(batch: AuditEntry[]): Promise<void> {
    try {
      await this.store.appendAudit(batch)
    } catch (err) {
      if (isStoreUnavailable(err)) throw err
      for (const entry of batch) {
        try {
          await this.store.appendAudit([entry])
        } catch (one) {
          if (isStoreUnavailable(one)) throw one
          this.#metrics?.auditDropped.inc({ action: entry.action })
          this.log.error(
            { err: (one as Error).message, action: entry.action, id: entry.id },
            'audit entry rejected by the database; dropped',
          )
        }
      }
    }
  }

  /**
   * At shutdown: writes what is left, retrying until `deadlineMs` passes; what is still unwritten
   * then is lost with the process, and logged and counted as such.
   */
  async close(deadlineMs = 5000): Promise<void> {
    const deadline = Date.now() + deadlineMs
    await this.flush()
    while (this.#backlog.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(0, deadline - Date.now()))))
      await this.#write()
    }
    clearTimeout(this.#retry)
    if (this.#backlog.length > 0) {
      this.log.error({ lost: this.#backlog.length }, 'shutting down with audit entries that could not be written: they are lost')
      for (const e of this.#backlog) this.#metrics?.auditDropped.inc({ action: e.action })
      this.#backlog = []
    }
  }
}
