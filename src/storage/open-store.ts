/**
 * @module storage/open-store
 * Opens the store named by the configuration: a SQLite file (default, zero setup) or
 * PostgreSQL when `DATABASE_URL` is a `postgres://` URL.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely'
import pg from 'pg'
import type { Database } from './schema.js'
import { KyselyStore } from './kysely-store.js'
import { PostgresEventBridge } from './postgres-events.js'

export interface StoreLocation {
  /** `postgres://…` / `postgresql://…`, or a SQLite file path (`:memory:` for tests). */
  url: string
  /** PostgreSQL pool size per process. */
  poolSize?: number
  onBridgeError?: ((err: Error) => void) | undefined
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url)
}

export function openStore(location: StoreLocation): KyselyStore {
  if (isPostgresUrl(location.url)) {
    // bigint (int8) columns hold unix milliseconds, well inside Number's exact range.
    const types = {
      getTypeParser: (oid: number, format?: string) =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    }
    const pool = new pg.Pool({ connectionString: location.url, max: location.poolSize ?? 10, types } as pg.PoolConfig)
    // A connection the server drops (restart, failover, a killed session) must not crash the
    // process: unheard 'error' events throw. Idle ones are discarded by the pool (which then emits
    // 'error'); a checked-out one (e.g. holding a refresh lock) emits on the client itself, and
    // its pending or next query fails instead, after which the pool discards it on release.
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    const bridge = new PostgresEventBridge(location.url, 'latchkey_events', location.onBridgeError)
    return new KyselyStore({ dialect: 'postgres', db, bridge, onPublishError: location.onBridgeError })
  }
  const path = location.url.replace(/^sqlite:(\/\/)?/i, '')
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new BetterSqlite3(path)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('synchronous = NORMAL')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  return new KyselyStore({ dialect: 'sqlite', db })
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
