/**
 * @module broker/retention
 * The retention sweep: flows expired longer ago than the flow retention (24 h by default: a late
 * `status` call still learns "expired"), and audit entries older than the audit retention (90 days
 * by default; 0 keeps them forever), deleted on a schedule in small batches. Each batch is one short
 * statement (SQLite holds its write lock only that long; requests interleave between batches);
 * on PostgreSQL a batch skips rows another process's sweep has locked, so every process may sweep.
 */
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Store } from '../storage/store.js'
import { isStoreUnavailable } from '../storage/unavailable.js'

const BATCH = 500
const HOUR_MS = 3_600_000

export class RetentionSweeper {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> = Promise.resolve()
  #stopped = false

  constructor(
    private readonly store: Store,
    private readonly retention: Config['retention'],
    private readonly log: Logger,
    private readonly batch = BATCH,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.#running = this.sweep().catch((err: unknown) => {
        // A database outage is logged once, when it starts and ends, by the store.
        if (!isStoreUnavailable(err)) this.log.warn({ err }, 'retention sweep failed')
      })
    }, this.retention.sweepIntervalSeconds * 1000)
    this.#timer.unref()
  }

  /** One sweep of both tables; returns what it deleted. */
  async sweep(now = Date.now()): Promise<{ flows: number; audit: number }> {
    const flows = await this.#drain((n) => this.store.deleteExpiredFlows(now - this.retention.flowHours * HOUR_MS, n))
    const audit =
      this.retention.auditDays > 0
        ? await this.#drain((n) => this.store.deleteAuditBefore(now - this.retention.auditDays * 24 * HOUR_MS, n))
        : 0
    if (flows + audit > 0) this.log.info({ flows, audit }, 'retention sweep deleted old rows')
    return { flows, audit }
  }

  async #drain(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
    let total = 0
    for (;;) {
      const n = await deleteBatch(this.batch)
      total += n
      if (n < this.batch || this.#stopped) return total
      // Let requests waiting for the database (and the event loop) in before the next batch.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#running
  }
}
