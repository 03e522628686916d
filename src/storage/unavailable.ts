/**
 * @module storage/unavailable
 * The one place that decides whether a database error means "the database cannot serve right
 * now" (server down or restarting, connection lost, pool exhausted, disk full, file read-only or
 * locked) rather than "this query is wrong". Such errors become a `StoreUnavailableError`
 * (`UNAVAILABLE`, 503, retryable), which HTTP renders without a stack trace; everything else is
 * left as it is (a unique violation stays a unique violation, a bug stays a 500).
 *
 * `OutageMonitor` turns the stream of failures and successes into two events per outage, its
 * start and its end with the duration, so an outage is logged twice, not once per request.
 */
import { LatchkeyError } from '../errors.js'

export class StoreUnavailableError extends LatchkeyError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause })
  }
}

export function isStoreUnavailable(err: unknown): boolean {
  return err instanceof StoreUnavailableError
}

/** Socket-level failures reaching the server (node's `err.code`). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT',
])

/**
 * PostgreSQL SQLSTATEs that say the server, not the statement, is the problem: class 08
 * (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect now), 53xxx
 * (insufficient resources: disk full, out of memory, too many connections) and 25006 (a
 * read-only transaction: a standby after failover, or `default_transaction_read_only`).
 */
function isUnavailablePgCode(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('53') || code === '25006'
}

/** SQLite result codes (better-sqlite3's `err.code`, extended codes included) that mean the file cannot be written now. */
const SQLITE_PREFIXES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_NOMEM',
]

/** pg's own messages for a connection that is gone or never came (they carry no code). */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|terminating connection due to administrator command|the database system is (starting up|shutting down)/i

export function isConnectionLevelError(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true
    if (code.startsWith('SQLITE_')) return SQLITE_PREFIXES.some((p) => code.startsWith(p))
    if (/^[0-9A-Z]{5}$/.test(code)) return isUnavailablePgCode(code)
  }
  const message = (err as { message?: unknown }).message
  return typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)
}

/** Wraps a connection-level error as `StoreUnavailableError`; returns anything else unchanged. */
export function classifyStoreError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || !isConnectionLevelError(err)) return err
  const e = err as { code?: string; message?: string }
  // The cause keeps the driver's detail for the one outage log line; the message a client sees names no internals.
  return new StoreUnavailableError(`the database is unavailable (${e.code ?? 'connection lost'}); retry shortly`, err)
}

export type AvailabilityEvent = { kind: 'down'; error: Error } | { kind: 'up'; downMs: number }

/**
 * Outage start and end, from the store's query results. `failed` with a connection-level error
 * opens an outage (once); a successful query closes it, reporting how long it lasted, once no
 * statement has failed for `settleMs`. Without that settling, a partial outage (reads answer,
 * writes fail: a full disk, a read-only database, a lock held past the deadline) would open and
 * close an outage on every request, and log each.
 */
export class OutageMonitor {
  #downSince: number | undefined
  #lastFailure = 0

  constructor(
    private readonly onChange: (event: AvailabilityEvent) => void = () => {},
    private readonly settleMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  get down(): boolean {
    return this.#downSince !== undefined
  }

  failed(err: StoreUnavailableError): void {
    this.#lastFailure = this.now()
    if (this.#downSince !== undefined) return
    this.#downSince = this.#lastFailure
    this.onChange({ kind: 'down', error: (err.cause as Error | undefined) ?? err })
  }

  succeeded(): void {
    if (this.#downSince === undefined) return
    const now = this.now()
    if (now - this.#lastFailure < this.settleMs) return
    const downMs = now - this.#downSince
    this.#downSince = undefined
    this.onChange({ kind: 'up', downMs })
  }
}
