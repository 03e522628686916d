/**
 * @module broker/audit
 * The audit trail: who (API key id), what (action), when, for which user, provider and
 * connection; never a secret. Entries are buffered and written in batches so recording every
 * token hand-out costs the hot path a map update, not a database write. Hand-outs of the same
 * connection's token to the same API key within one flush window (200 ms) become one
 * `token.issued` entry with `detail.count` and `detail.last_at`.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { AuditEntry, Store } from '../storage/store.js'

export type AuditAction =
  | 'token.issued'
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

export interface AuditInput {
  actor?: string | null | undefined
  action: AuditAction
  user_id?: string | null | undefined
  provider_id?: string | null | undefined
  connection_id?: string | null | undefined
  detail?: Record<string, unknown> | null | undefined
}

export class AuditLog {
  #buffer: AuditEntry[] = []
  /** Open `token.issued` aggregates of this window, by actor and connection. */
  #issued = new Map<string, AuditEntry & { detail: { count: number; last_at: string | number } }>()
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()
  #seq = 0

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly flushMs = 200,
  ) {}

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
      this.#timer = setTimeout(() => void this.flush(), this.flushMs)
      this.#timer.unref()
    }
  }

  /** Writes buffered entries; resolves when everything recorded so far is stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batch = this.#buffer
    this.#buffer = []
    for (const e of this.#issued.values()) e.detail.last_at = new Date(e.detail.last_at).toISOString()
    this.#issued.clear()
    this.#flushing = this.#flushing.then(async () => {
      if (batch.length === 0) return
      try {
        await this.store.appendAudit(batch)
      } catch (err) {
        this.log.error({ err, entries: batch.length }, 'could not write audit entries')
      }
    })
    return this.#flushing
  }
}
