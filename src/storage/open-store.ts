/**
 * @module storage/open-store
 * Opens the store named by the configuration: a SQLite file (default, zero setup) or
 * PostgreSQL when `DATABASE_URL` is a `postgres://` URL.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from 'kysely'
import type pg from 'pg'
import { guardDialect, guardReads } from './guarded-dialect.js'
import { countQueryErrors, KyselyStore, type StoreStats } from './kysely-store.js'
import { loadPg } from './load-pg.js'
import { PostgresEventBridge } from './postgres-events.js'
import { sqlitePreparedLease } from './prepared-lease.js'
import { postgresPreparedReads, sqlitePreparedReads } from './prepared-reads.js'
import type { Database } from './schema.js'
import { type AvailabilityEvent, OutageMonitor } from './unavailable.js'

export interface StoreLocation {
  /** `postgres://…` / `postgresql://…`, or a SQLite file path (`:memory:` for tests). */
  url: string
  /** PostgreSQL pool size per process. */
  poolSize?: number
  onBridgeError?: ((err: Error) => void) | undefined
  /** Called once when the database becomes unavailable and once when it is back (with the outage's length). */
  onAvailability?: ((event: AvailabilityEvent) => void) | undefined
  /** SQLite: how long a statement waits (asynchronously) for another writer's lock; default 5 s. */
  busyDeadlineMs?: number | undefined
  /** PostgreSQL: how long a request waits for a pooled connection; default 5 s. */
  connectTimeoutMs?: number | undefined
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url)
}

export function openStore(location: StoreLocation): KyselyStore {
  const monitor = new OutageMonitor(location.onAvailability)
  if (isPostgresUrl(location.url)) {
    const pg = loadPg()
    // bigint (int8) columns hold unix milliseconds, well inside Number's exact range.
    const types = {
      getTypeParser: (oid: number, format?: string) =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    }
    // A bounded wait for a pooled connection: with every connection stuck (a hung server), a request
    // answers 503 instead of queueing forever.
    const pool = new pg.Pool({
      connectionString: location.url,
      max: location.poolSize ?? 10,
      connectionTimeoutMillis: location.connectTimeoutMs ?? 5000,
      types,
    } as pg.PoolConfig)
    // A connection the server drops (restart, failover, a killed session) must not crash the
    // process: unheard 'error' events throw. Idle ones are discarded by the pool (which then emits
    // 'error'); a checked-out one (e.g. holding a refresh lock) emits on the client itself, and
    // its pending or next query fails instead, after which the pool discards it on release.
    // Counted as database errors, for /metrics.
    const max = location.poolSize ?? 10
    const stats: StoreStats = { errors: 0, pool: () => ({ max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }) }
    pool.on('error', () => void stats.errors++)
    pool.on('connect', (client) => client.on('error', () => {}))
    const db = new Kysely<Database>({
      dialect: guardDialect(new PostgresDialect({ pool }), { dialect: 'postgres', monitor }),
      log: countQueryErrors(stats),
    })
    const bridge = new PostgresEventBridge(location.url, 'latchkey_events', location.onBridgeError)
    return new KyselyStore({
      dialect: 'postgres',
      db,
      bridge,
      monitor,
      onPublishError: location.onBridgeError,
      stats,
      // Outside Kysely, so through the same outage classification as every other statement.
      preparedReads: () => guardReads(postgresPreparedReads(pool), monitor),
    })
  }
  const path = location.url.replace(/^sqlite:(\/\/)?/i, '')
  if (path !== ':memory:') {
    // Tokens are encrypted, but the file also holds who is connected to what: owner only. SQLite
    // gives its -wal and -shm files the database file's mode.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    closeSync(openSync(path, 'a', 0o600))
  }
  const sqlite = new BetterSqlite3(path)
  // Opening waits (briefly, synchronously: once, before serving) for another process switching the
  // file to WAL; after that, no statement may wait inside better-sqlite3 (see guarded-dialect.ts).
  sqlite.pragma('busy_timeout = 2000')
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('busy_timeout = 0')
  const stats: StoreStats = { errors: 0 }
  const dialect = guardDialect(new SqliteDialect({ database: withStatementCache(sqlite) }), {
    dialect: 'sqlite',
    monitor,
    busyDeadlineMs: location.busyDeadlineMs,
  })
  return new KyselyStore({
    dialect: 'sqlite',
    db: new Kysely<Database>({ dialect, log: countQueryErrors(stats) }),
    monitor,
    stats,
    // A failed direct read (a lock, a full disk) is retried through Kysely's guarded path; a
    // successful one tells the outage monitor the database answers.
    preparedReads: (fallback) => guardReads(sqlitePreparedReads(sqlite, fallback), monitor),
    preparedLease: (fallback) => sqlitePreparedLease(sqlite, fallback),
  })
}

/**
 * Kysely's SQLite driver prepares every query anew, and preparing costs more than running a
 * small query (`select *` from connections: ≈50 µs to prepare, ≈20 µs to run), so statements
 * are reused by SQL text. Safe because Kysely uses one connection behind a mutex and every
 * statement runs to completion synchronously (`all`/`run`; nothing here streams). Long SQL
 * (multi-row inserts whose text depends on the row count) is not kept.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return {
    close() {
      cache.clear()
      sqlite.close()
    },
    prepare(sql: string) {
      const hit = cache.get(sql)
      if (hit) return hit
      const stmt = sqlite.prepare(sql)
      if (sql.length <= 2048) {
        if (cache.size >= max) cache.delete(cache.keys().next().value!)
        cache.set(sql, stmt)
      }
      return stmt
    },
  }
}
