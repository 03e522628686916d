/**
 * @module broker/last-use
 * Each connection's `last_used_at`, recorded in memory on every hand-out and written in one
 * batched UPDATE every few seconds. Writing it per read — even throttled to once a minute per
 * connection, which never throttles a connection read now and then — was the largest cost of a
 * cold read (~117 µs on SQLite; on PostgreSQL a second round trip plus ~335 µs of the database's
 * own CPU). Usage is kept in the row rather than derived from the audit log so the admin API
 * lists it without scanning the log.
 *
 * Correct across processes: the store only moves a time forward, so processes flushing in any
 * order converge on the latest use. Through an outage the pending times are kept (merged with
 * newer ones) and written at the next successful flush; the map is bounded (`maxPending`): when
 * it is full a flush starts at once, and should the database stay down, uses of connections not
 * yet pending are dropped (a last-use time is bookkeeping, not worth unbounded memory).
 */
import type { Logger } from 'pino'
import type { Store } from '../storage/store.js'
import { isStoreUnavailable } from '../storage/unavailable.js'

export class LastUse {
  #pending = new Map<string, number>()
  #flushing: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #warned = false

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly flushMs = 5000,
    private readonly maxPending = 100_000,
  ) {}

  /** No I/O: one map write (the hot path calls this on every hand-out). */
  record(connectionId: string, at: number): void {
    const pending = this.#pending
    if (pending.size >= this.maxPending && !pending.has(connectionId)) {
      void this.flush()
      return
    }
    pending.set(connectionId, at)
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.flushMs)
      this.#timer.unref()
    }
  }

  /** Writes what is pending; resolves when the write (and any running one) is done. Never throws. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#flushing) await this.#flushing
    if (this.#pending.size === 0) return
    const batch = this.#pending
    this.#pending = new Map()
    this.#flushing = this.#write(batch)
    await this.#flushing
    this.#flushing = undefined
  }

  async #write(batch: Map<string, number>): Promise<void> {
    try {
      await this.store.touchConnections(batch)
      this.#warned = false
    } catch (err) {
      // A database outage is logged once by the store (start and end); anything else is news, once.
      if (!this.#warned && !isStoreUnavailable(err))
        this.log.warn({ err }, 'could not record last use of connections; keeping the times to retry')
      this.#warned = true
      // Put the batch back under what was recorded meanwhile (newer), within the bound.
      for (const [id, at] of batch) {
        if (this.#pending.size >= this.maxPending) break
        if (!this.#pending.has(id)) this.#pending.set(id, at)
      }
      if (this.#timer === undefined && this.#pending.size > 0) {
        this.#timer = setTimeout(() => void this.flush(), this.flushMs)
        this.#timer.unref()
      }
    }
  }

  async close(): Promise<void> {
    await this.flush()
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
