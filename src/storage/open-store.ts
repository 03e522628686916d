/**
 * @module storage/open-store
 * Opens the store named by the configuration: a SQLite file (default, zero setup) or
 * PostgreSQL when `DATABASE_URL` is a `postgres://` URL.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { Database } from './schema.js'
import { KyselyStore } from './kysely-store.js'
import { PostgresEventBridge } from './postgres-events.js'

export interface StoreLocation {
  /** `postgres://…` / `postgresql://…`, or a SQLite file path (`:memory:` for tests). */
  url: string
  /** PostgreSQL pool size per process. */
  poolSize?: number
  onBridgeError?: (err: Error) => void
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
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    const bridge = new PostgresEventBridge(location.url, 'latchkey_events', location.onBridgeError)
    return new KyselyStore({ dialect: 'postgres', db, bridge })
  }
  const path = location.url.replace(/^sqlite:(\/\/)?/i, '')
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new BetterSqlite3(path)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('synchronous = NORMAL')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
  return new KyselyStore({ dialect: 'sqlite', db })
}
