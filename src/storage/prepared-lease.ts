/**
 * @module storage/prepared-lease
 * The SQLite refresh lease's take (`UPDATE … RETURNING`, the first of a refresh's two statements),
 * as a statement prepared once instead of built and compiled by Kysely per refresh — the pattern
 * of `prepared-reads.ts`, for the refresh path (issue 15: refresh throughput).
 *
 * Falls back to the Kysely statement (`fallback`, which goes through the guarded driver's busy
 * retries and outage classification) while Kysely holds the single connection in a transaction,
 * and on any error of the direct statement (SQLITE_BUSY and the like). A failed autocommit
 * statement changed nothing, so running the fallback after it cannot take the lease twice.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { COLUMNS } from './prepared-reads.js'
import type { ConnectionsTable } from './schema.js'

export interface PreparedLease {
  /**
   * Sets `owner` as the lease holder until `until` when the lease of connection `id` is free or
   * ran out before `now`; the row as written, or undefined when it is held (or there is no row).
   */
  take(id: string, owner: string, until: number, now: number): Promise<ConnectionsTable | undefined>
}

const TAKE = `update connections set refresh_lease_owner = ?, refresh_lease_until = ? where id = ? and (refresh_lease_until is null or refresh_lease_until < ?) returning ${COLUMNS.join(', ')}`

export function sqlitePreparedLease(sqlite: BetterSqlite3.Database, fallback: PreparedLease): PreparedLease {
  // Prepared lazily: the table does not exist before the first migration.
  let take: BetterSqlite3.Statement<[string, number, string, number], ConnectionsTable> | undefined
  return {
    async take(id, owner, until, now) {
      if (sqlite.inTransaction) return fallback.take(id, owner, until, now)
      try {
        take ??= sqlite.prepare(TAKE)
        return take.get(owner, until, id, now)
      } catch {
        return fallback.take(id, owner, until, now)
      }
    },
  }
}
