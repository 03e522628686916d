/**
 * @module storage/prepared-lease
 * The SQLite refresh lease's two statements as statements prepared once instead of built and
 * compiled by Kysely per refresh — the pattern of `prepared-reads.ts`, for the refresh path
 * (issue 15: refresh throughput):
 * - the take (`UPDATE … RETURNING`), which hands back the row;
 * - the holder's write (the refreshed tokens, clearing the lease) and its webhook outbox rows,
 *   in one `BEGIN IMMEDIATE` transaction through better-sqlite3's own `transaction()`. Through
 *   Kysely that was a begin, an update, an insert and a commit, each built, compiled and passed
 *   through the guarded driver: about a sixth of a refresh's CPU.
 *
 * Both fall back to the Kysely statements (`fallback`, which go through the guarded driver's busy
 * retries and outage classification) while Kysely holds the single connection in a transaction,
 * and on any error of the direct path (SQLITE_BUSY and the like). A failed autocommit statement,
 * or a transaction that threw (better-sqlite3 rolls it back), changed nothing, so running the
 * fallback after it cannot take the lease or write the tokens twice.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { encodePatch } from './connection-patch.js'
import { COLUMNS } from './prepared-reads.js'
import type { ConnectionsTable } from './schema.js'
import type { ConnectionPatch } from './store.js'
import type { OutboxEvent } from './webhook-store.js'

export interface PreparedLease {
  /**
   * Sets `owner` as the lease holder until `until` when the lease of connection `id` is free or
   * ran out before `now`; the row as written, or undefined when it is held (or there is no row).
   */
  take(id: string, owner: string, until: number, now: number): Promise<ConnectionsTable | undefined>
  /**
   * Writes `patch` to connection `id` if it still has `generation` (a grant written meanwhile
   * wins), and `events` to the outbox in the same transaction; true when the row was written.
   */
  write(id: string, patch: ConnectionPatch, generation: number, events: readonly OutboxEvent[] | undefined): Promise<boolean>
}

const TAKE = `update connections set refresh_lease_owner = ?, refresh_lease_until = ? where id = ? and (refresh_lease_until is null or refresh_lease_until < ?) returning ${COLUMNS.join(', ')}`
// The columns of an OutboxEvent, as writeOutbox (webhook-store.ts) inserts them: change both together.
const INSERT_EVENT = 'insert into webhook_events (id, type, order_key, payload, created_at, dispatched_at) values (?, ?, ?, ?, ?, null)'
const WRITABLE = new Set<string>(COLUMNS)
/** Distinct column sets a process writes through the lease: a handful (refresh, failure, reauth). */
const MAX_SHAPES = 32

export function sqlitePreparedLease(sqlite: BetterSqlite3.Database, fallback: PreparedLease): PreparedLease {
  // Prepared lazily: the tables do not exist before the first migration.
  let take: BetterSqlite3.Statement<[string, number, string, number], ConnectionsTable> | undefined
  let insertEvent: BetterSqlite3.Statement<[string, string, string, string, number]> | undefined
  const updates = new Map<string, BetterSqlite3.Statement<unknown[]>>()
  const update = (columns: string[], tokensChanged: boolean): BetterSqlite3.Statement<unknown[]> | undefined => {
    const shape = `${tokensChanged ? '+' : ''}${columns.join(',')}`
    let s = updates.get(shape)
    if (s) return s
    if (updates.size >= MAX_SHAPES || !columns.every((c) => WRITABLE.has(c))) return undefined
    const sets = [...columns.map((c) => `${c} = ?`), ...(tokensChanged ? ['generation = generation + 1'] : [])]
    s = sqlite.prepare(`update connections set ${sets.join(', ')} where id = ? and generation = ?`)
    updates.set(shape, s)
    return s
  }
  let write: ((s: BetterSqlite3.Statement<unknown[]>, values: unknown[], events: readonly OutboxEvent[]) => boolean) | undefined
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
    async write(id, patch, generation, events) {
      const encoded = encodePatch(patch)
      if (!encoded || sqlite.inTransaction) return fallback.write(id, patch, generation, events)
      try {
        const columns = Object.keys(encoded.set)
        const statement = update(columns, encoded.tokensChanged)
        if (!statement) return fallback.write(id, patch, generation, events)
        insertEvent ??= sqlite.prepare(INSERT_EVENT)
        const insert = insertEvent
        write ??= sqlite.transaction((s: BetterSqlite3.Statement<unknown[]>, values: unknown[], outbox: readonly OutboxEvent[]) => {
          if (s.run(...values).changes === 0) return false
          for (const e of outbox) insert.run(e.id, e.type, e.order_key, e.payload, e.created_at)
          return true
        }).immediate
        return write(statement, [...columns.map((c) => encoded.set[c]), id, generation], events ?? [])
      } catch {
        return fallback.write(id, patch, generation, events)
      }
    },
  }
}
