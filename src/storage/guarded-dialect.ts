/**
 * @module storage/guarded-dialect
 * Wraps a Kysely dialect's driver so that every statement, connection checkout and transaction
 * step of the store passes through one place that:
 * - turns connection-level failures into `StoreUnavailableError` (see `unavailable.ts`) and
 *   tells the `OutageMonitor` (outage start/end are logged once, not per request);
 * - on SQLite, never lets a lock wait block the event loop. better-sqlite3 is synchronous: with
 *   a busy timeout, a statement that meets another process's write lock spins inside the call
 *   for up to that timeout, and every request of this process (health and metrics included)
 *   stalls with it. The file is opened with `busy_timeout = 0` instead; here SQLITE_BUSY is
 *   retried asynchronously with short backoff up to a deadline, then answered as unavailable.
 *   Transactions start with `BEGIN IMMEDIATE` (taking the write lock up front, retried the same
 *   way) so no statement inside a transaction can meet a lock half-way, where a retry would not
 *   be safe.
 */
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely'
import { CompiledQuery as Compiled } from 'kysely'
import type { PreparedReads } from './prepared-reads.js'
import { classifyStoreError, type OutageMonitor, StoreUnavailableError } from './unavailable.js'

export interface GuardOptions {
  dialect: 'sqlite' | 'postgres'
  monitor: OutageMonitor
  /** SQLite: how long a statement keeps retrying a locked database before answering unavailable. */
  busyDeadlineMs?: number | undefined
}

const isBusy = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/** Runs a database step, classifying its failure and recording the database's availability. */
async function guarded<T>(monitor: OutageMonitor, step: () => Promise<T>): Promise<T> {
  let result: T
  try {
    result = await step()
  } catch (err) {
    const classified = classifyStoreError(err)
    if (classified instanceof StoreUnavailableError) monitor.failed(classified)
    else monitor.succeeded() // the database answered (with a statement error)
    throw classified
  }
  monitor.succeeded()
  return result
}

/** The prepared reads (which bypass Kysely's driver) through the same classification. */
export function guardReads(reads: PreparedReads, monitor: OutageMonitor): PreparedReads {
  return {
    connectionByKey: (userId, providerId) => guarded(monitor, () => reads.connectionByKey(userId, providerId)),
    connectionById: (id) => guarded(monitor, () => reads.connectionById(id)),
  }
}

export function guardDialect(inner: Dialect, options: GuardOptions): Dialect {
  return {
    createDriver: () => new GuardedDriver(inner.createDriver(), options),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
  }
}

class GuardedDriver implements Driver {
  readonly #wrapped = new WeakMap<DatabaseConnection, GuardedConnection>()
  readonly #busyDeadlineMs: number

  constructor(
    private readonly inner: Driver,
    private readonly options: GuardOptions,
  ) {
    this.#busyDeadlineMs = options.busyDeadlineMs ?? 5000
  }

  /** Runs a driver step, classifying its failure and recording the database's availability. */
  guard<T>(step: () => Promise<T>): Promise<T> {
    return guarded(this.options.monitor, step)
  }

  /** SQLite: re-runs `step` while the file is locked by another connection, asynchronously. */
  async retryBusy<T>(step: () => Promise<T>): Promise<T> {
    if (this.options.dialect !== 'sqlite') return step()
    const deadline = Date.now() + this.#busyDeadlineMs
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      try {
        return await step()
      } catch (err) {
        if (!isBusy(err) || Date.now() + delay > deadline) throw err
      }
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())))
    }
  }

  init(): Promise<void> {
    return this.guard(() => this.inner.init())
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.guard(() => this.inner.acquireConnection())
    let wrapped = this.#wrapped.get(connection)
    if (!wrapped) {
      wrapped = new GuardedConnection(connection, this)
      this.#wrapped.set(connection, wrapped)
    }
    return wrapped
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as GuardedConnection
    if (this.options.dialect === 'sqlite') {
      // Take the write lock now (see the module comment); `inTransaction` stops statement retries.
      return this.guard(() => this.retryBusy(() => c.inner.executeQuery(Compiled.raw('begin immediate')))).then(() => {
        c.inTransaction = true
      })
    }
    return this.guard(() => this.inner.beginTransaction(c.inner, settings))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as GuardedConnection
    // SQLite keeps the transaction open when COMMIT answers BUSY, so retrying it is the documented remedy.
    await this.guard(() => this.retryBusy(() => this.inner.commitTransaction(c.inner)))
    c.inTransaction = false
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as GuardedConnection
    c.inTransaction = false
    await this.guard(() => this.inner.rollbackTransaction(c.inner))
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as GuardedConnection).inner)
  }

  destroy(): Promise<void> {
    return this.inner.destroy()
  }
}

class GuardedConnection implements DatabaseConnection {
  inTransaction = false

  constructor(
    readonly inner: DatabaseConnection,
    private readonly driver: GuardedDriver,
  ) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    // better-sqlite3 throws synchronously: the async wrappers turn that into a rejection.
    const run = async () => this.inner.executeQuery<R>(compiledQuery)
    return this.driver.guard(() => (this.inTransaction ? run() : this.driver.retryBusy(run)))
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize)
  }
}
