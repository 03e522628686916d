/**
 * @module storage/prepared-reads
 * The two connection reads on the cold authorize path (a connected user whose row is not in the
 * connection cache), as statements prepared once instead of built by Kysely on every call.
 * Building and compiling the same `select` through Kysely's query builder was a third to a half
 * of a SQLite read's ~97 µs; on PostgreSQL a named statement also spares the server its parse
 * and plan per call. Everything else stays on Kysely: only these reads run often enough to matter.
 *
 * Each read falls back to the Kysely path (`fallback`) when the fast path cannot be used safely,
 * so retries and outage handling that wrap Kysely's queries apply here too:
 * - SQLite: while Kysely holds the single connection in a transaction (a read on the same
 *   connection would see the transaction's uncommitted writes), and on any error of the direct
 *   read (SQLITE_BUSY and the like), which is then retried once through the fallback.
 * - PostgreSQL: nothing to guard (the pool hands this query its own connection); errors propagate
 *   as from any other query.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type pg from 'pg'
import type { ConnectionsTable } from './schema.js'

export interface PreparedReads {
  connectionByKey(userId: string, providerId: string): Promise<ConnectionsTable | undefined>
  connectionById(id: string): Promise<ConnectionsTable | undefined>
}

/**
 * Columns named, not `*`: a PostgreSQL prepared statement whose result type changes (a migration
 * run by a newer process adds a column) fails with "cached plan must not change result type".
 */
export const COLUMNS = [
  'id',
  'user_id',
  'provider_id',
  'status',
  'scopes',
  'requested_scopes',
  'access_token_enc',
  'refresh_token_enc',
  'token_type',
  'expires_at',
  'refresh_token_expires_at',
  'account_id',
  'account_label',
  'user_info',
  'created_at',
  'updated_at',
  'last_used_at',
  'last_refresh_at',
  'last_refresh_error',
  'refresh_failures',
  'refresh_cooldown_until',
  'refresh_lease_owner',
  'refresh_lease_until',
  'generation',
  'token_issued_at',
  'is_default',
] as const satisfies ReadonlyArray<keyof ConnectionsTable>
// Every column, so a column added to the schema without being added here fails the type check.
const everyColumn: [Exclude<keyof ConnectionsTable, (typeof COLUMNS)[number]>] extends [never] ? true : never = true
void everyColumn
const SELECT = `select ${COLUMNS.join(', ')} from connections where`
// The default connection (0010-accounts): the partial unique index connections_default answers it.
const BY_KEY = `${SELECT} user_id = ? and provider_id = ? and is_default = 1`
const BY_ID = `${SELECT} id = ?`

export function sqlitePreparedReads(sqlite: BetterSqlite3.Database, fallback: PreparedReads): PreparedReads {
  // Prepared lazily: the table does not exist before the first migration.
  let byKey: BetterSqlite3.Statement<[string, string], ConnectionsTable> | undefined
  let byId: BetterSqlite3.Statement<[string], ConnectionsTable> | undefined
  return {
    async connectionByKey(userId, providerId) {
      if (sqlite.inTransaction) return fallback.connectionByKey(userId, providerId)
      try {
        byKey ??= sqlite.prepare(BY_KEY)
        return byKey.get(userId, providerId)
      } catch {
        return fallback.connectionByKey(userId, providerId)
      }
    },
    async connectionById(id) {
      if (sqlite.inTransaction) return fallback.connectionById(id)
      try {
        byId ??= sqlite.prepare(BY_ID)
        return byId.get(id)
      } catch {
        return fallback.connectionById(id)
      }
    },
  }
}

export function postgresPreparedReads(pool: pg.Pool): PreparedReads {
  return {
    async connectionByKey(userId, providerId) {
      const r = await pool.query<ConnectionsTable>({
        name: 'latchkey_connection_by_key',
        text: `${SELECT} user_id = $1 and provider_id = $2 and is_default = 1`,
        values: [userId, providerId],
      })
      return r.rows[0]
    },
    async connectionById(id) {
      const r = await pool.query<ConnectionsTable>({ name: 'latchkey_connection_by_id', text: `${SELECT} id = $1`, values: [id] })
      return r.rows[0]
    },
  }
}
