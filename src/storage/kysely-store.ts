/**
 * @module storage/kysely-store
 * The one `Store` implementation, on Kysely, for SQLite (better-sqlite3) and PostgreSQL (pg).
 * Dialect differences are confined to: how a refresh lock is held, and how events travel
 * between processes (PostgreSQL LISTEN/NOTIFY; SQLite in-process only).
 */

import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { FlowFailureCode } from '@latchkey/client'
import { type Kysely, sql, type Transaction } from 'kysely'
import { LatchkeyError } from '../errors.js'
import type { StoreStats } from '../metrics.js'
import { encodePatch } from './connection-patch.js'
import { migrateToLatest } from './migrations.js'
import type { PreparedLease } from './prepared-lease.js'
import type { PreparedReads } from './prepared-reads.js'
import type { ConnectionsTable, Database } from './schema.js'
import type {
  ApiKeyRow,
  AuditEntry,
  AuditFilter,
  ConnectionFilter,
  ConnectionPatch,
  ConnectionRow,
  ConnectionTarget,
  FlowPatch,
  FlowRow,
  LockedConnection,
  ProviderRow,
  SecretFields,
  SecretRow,
  SecretTable,
  Store,
  StoreEvent,
} from './store.js'
import { EXPIRED_FLOW, OpenFlowLimitError } from './store.js'
import type { OutageMonitor } from './unavailable.js'
import { type OutboxEvent, writeOutbox } from './webhook-store.js'

type Db = Kysely<Database> | Transaction<Database>

/** Transport for cross-process events; PostgreSQL provides one, SQLite none. */
export interface EventBridge {
  publish(payload: string): Promise<void>
  /** `onLive(false)` when events may be getting lost (connection dropped), `onLive(true)` once listening again. */
  start(onMessage: (payload: string) => void, onLive: (live: boolean) => void): Promise<void>
  stop(): Promise<void>
}

export interface KyselyStoreOptions {
  dialect: 'sqlite' | 'postgres'
  db: Kysely<Database>
  bridge?: EventBridge | undefined
  /** SQLite refresh lease length; must exceed the provider request timeout. */
  leaseMs?: number
  onClose?: () => Promise<void>
  /** Called when a change notification could not be sent to other processes. */
  onPublishError?: ((err: Error) => void) | undefined
  /** Database errors so far and the connection pool's state (PostgreSQL), read by `/metrics`. */
  stats?: StoreStats
  /** Outage state of the database behind `db` (fed by the guarded dialect). */
  monitor?: OutageMonitor | undefined
  /**
   * The cold path's connection reads as prepared statements (`prepared-reads.ts`), given the
   * Kysely reads to fall back to; without it those reads go through Kysely too.
   */
  preparedReads?: (fallback: PreparedReads) => PreparedReads
  /** SQLite: the refresh lease's take as a prepared statement (`prepared-lease.ts`), given Kysely's to fall back to. */
  preparedLease?: (fallback: PreparedLease) => PreparedLease
}

export type { StoreStats }

/** Kysely `log` option: counts failed queries into `stats` (a unique violation is an answer, not an error). */
export function countQueryErrors(stats: StoreStats) {
  return (event: { level: 'query' | 'error'; error?: unknown }): void => {
    if (event.level === 'error' && !isUniqueViolation(event.error)) stats.errors++
  }
}

const SECRET_COLUMNS = {
  connections: ['access_token_enc', 'refresh_token_enc'],
  flows: ['code_verifier_enc', 'grant_enc', 'state_enc'],
  providers: ['client_secret_enc'],
  webhook_endpoints: ['secret_enc', 'previous_secret_enc'],
  mcp_client_registrations: ['client_secret_enc'],
} as const

/** A secret table's key column, when it is not `id` (MCP registrations are keyed by issuer). */
const SECRET_KEYS: Partial<Record<SecretTable, string>> = { mcp_client_registrations: 'issuer' }

export class KyselyStore implements Store {
  readonly dialect: 'sqlite' | 'postgres'
  readonly db: Kysely<Database>
  readonly #bridge: EventBridge | undefined
  readonly #events = new EventEmitter()
  readonly #instance = randomUUID()
  readonly #leaseMs: number
  readonly #onClose: (() => Promise<void>) | undefined
  readonly #onPublishError: ((err: Error) => void) | undefined
  readonly #monitor: OutageMonitor | undefined
  readonly #reads: PreparedReads
  readonly #lease: PreparedLease
  #bridgeStarted = false
  #eventsLive: boolean
  readonly stats: StoreStats

  constructor(options: KyselyStoreOptions) {
    this.stats = options.stats ?? { errors: 0 }
    this.dialect = options.dialect
    this.db = options.db
    this.#bridge = options.bridge
    this.#leaseMs = options.leaseMs ?? 20_000
    this.#onClose = options.onClose
    this.#onPublishError = options.onPublishError
    this.#monitor = options.monitor
    this.#events.setMaxListeners(0)
    // With a bridge, other processes' events arrive only once it has started (in migrate()).
    this.#eventsLive = this.#bridge === undefined
    const kyselyReads: PreparedReads = {
      connectionByKey: (userId, providerId) =>
        this.db
          .selectFrom('connections')
          .selectAll()
          .where('user_id', '=', userId)
          .where('provider_id', '=', providerId)
          .where('is_default', '=', 1)
          .executeTakeFirst(),
      connectionById: (id) => this.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst(),
    }
    this.#reads = options.preparedReads ? options.preparedReads(kyselyReads) : kyselyReads
    const kyselyLease: PreparedLease = {
      take: (id, owner, until, now) =>
        this.db
          .updateTable('connections')
          .set({ refresh_lease_owner: owner, refresh_lease_until: until })
          .where('id', '=', id)
          .where((eb) => eb.or([eb('refresh_lease_until', 'is', null), eb('refresh_lease_until', '<', now)]))
          .returningAll()
          .executeTakeFirst(),
      write: (id, patch, generation, events) => withOutbox(this.db, events, (db) => updateConnectionIn(db, id, patch, generation)),
    }
    this.#lease = options.preparedLease ? options.preparedLease(kyselyLease) : kyselyLease
  }

  /** The cross-process event transport, if any (PostgreSQL); for tests and diagnostics. */
  get eventBridge(): EventBridge | undefined {
    return this.#bridge
  }

  async migrate(): Promise<string[]> {
    const applied = await migrateToLatest(this.db)
    await this.#startBridge()
    return applied
  }

  async #startBridge(): Promise<void> {
    if (!this.#bridge || this.#bridgeStarted) return
    this.#bridgeStarted = true
    await this.#bridge.start(
      (payload) => {
        try {
          const { origin, event } = JSON.parse(payload) as { origin: string; event: StoreEvent }
          if (origin !== this.#instance) this.#events.emit('event', event)
        } catch {
          // Not ours: ignore.
        }
      },
      (live) => this.#setEventsLive(live),
    )
    this.#setEventsLive(true)
  }

  get eventsLive(): boolean {
    return this.#eventsLive
  }

  #setEventsLive(live: boolean): void {
    if (this.#eventsLive === live) return
    this.#eventsLive = live
    this.#events.emit('event', { channel: 'events', live } satisfies StoreEvent)
  }

  /** True while the last database call failed for a connection-level reason (an outage is under way). */
  get unavailable(): boolean {
    return this.#monitor?.down ?? false
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db)
  }

  async heartbeat(at: number): Promise<void> {
    await this.setMeta('heartbeat', String(at))
  }

  async close(): Promise<void> {
    this.#events.removeAllListeners()
    await this.#bridge?.stop()
    await this.db.destroy()
    await this.#onClose?.()
  }

  // ---------------------------------------------------------------- API keys

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    await this.db.insertInto('api_keys').values(row).execute()
  }

  async getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    return await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
  }

  async listApiKeys(): Promise<ApiKeyRow[]> {
    return await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute()
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute()
  }

  async countUsableApiKeys(now: number): Promise<number> {
    const r = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirstOrThrow()
    return Number(r.n)
  }

  // ---------------------------------------------------------------- flows

  async createOrReuseFlow(
    row: FlowRow,
    now: number,
    maxOpenPerUser = Infinity,
    expiredEvents?: (flow: FlowRow) => OutboxEvent[],
  ): Promise<{ flow: FlowRow; created: boolean }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const open = await this.db
        .selectFrom('flows')
        .selectAll()
        .where('user_id', '=', row.user_id)
        .where('provider_id', '=', row.provider_id)
        .where('scope_key', '=', row.scope_key)
        .where('status', '=', 'pending')
        .where('callback_at', 'is', null)
        // A flow a browser has continued on is that browser's: the app gets a new link.
        .where('opened_at', 'is', null)
        .executeTakeFirst()
      if (open) {
        // Leave a minute of validity so a reused link does not die in the user's hands.
        if (open.expires_at > now + 60_000) return { flow: decodeFlow(open), created: false }
        // Webhooks (0008): its authorization.failed commits with it (updateFlow publishes).
        await this.updateFlow(open.id, { status: 'failed', ...EXPIRED_FLOW }, expiredEvents?.(decodeFlow(open)))
      }
      if (maxOpenPerUser !== Infinity) {
        // Served by the flows_one_open index (it leads with user_id). Not atomic with the insert:
        // concurrent requests for one user may pass together, so the bound is soft by that many.
        const { n } = await this.db
          .selectFrom('flows')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', row.user_id)
          .where('status', '=', 'pending')
          .where('callback_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirstOrThrow()
        if (Number(n) >= maxOpenPerUser) throw new OpenFlowLimitError(Number(n))
      }
      try {
        await this.db.insertInto('flows').values(encodeFlow(row)).execute()
        return { flow: row, created: true }
      } catch (err) {
        if (!isUniqueViolation(err)) throw err
        // Another request (maybe another process) opened the same flow first: reuse it.
      }
    }
    throw new Error('could not create or reuse an authorization flow after 3 attempts')
  }

  async getFlow(id: string): Promise<FlowRow | undefined> {
    const r = await this.db.selectFrom('flows').selectAll().where('id', '=', id).executeTakeFirst()
    return r && decodeFlow(r)
  }

  async getFlowByStateHash(stateHash: string): Promise<FlowRow | undefined> {
    const r = await this.db.selectFrom('flows').selectAll().where('state_hash', '=', stateHash).executeTakeFirst()
    return r && decodeFlow(r)
  }

  async markFlowOpened(id: string, browserBinding: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('flows')
      .set({ opened_at: at, browser_binding: browserBinding })
      .where('id', '=', id)
      .where('opened_at', 'is', null)
      .executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  async consumeFlowCallback(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('flows')
      .set({ callback_at: at })
      .where('id', '=', id)
      .where('callback_at', 'is', null)
      .where('status', '=', 'pending')
      .executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  async updateFlow(id: string, patch: FlowPatch, events?: readonly OutboxEvent[]): Promise<boolean> {
    // An empty SET is a syntax error: nothing to write is a no-op.
    if (Object.values(patch).every((v) => v === undefined)) return false
    const write = async (db: Db) => {
      const r = await db.updateTable('flows').set(patch).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst()
      return Number(r.numUpdatedRows) > 0
    }
    const wrote = await withOutbox(this.db, events, write)
    // After the write, so a woken long-poll reads the new row.
    if (wrote) await this.publish({ channel: 'flow', id })
    return wrote
  }

  async completeFlowWithConnection(
    flowId: string,
    key: ConnectionTarget,
    build: (existing: ConnectionRow | undefined) => ConnectionBuilt,
    events?: (stored: ConnectionRow, existing: ConnectionRow | undefined) => OutboxEvent[],
  ): Promise<ConnectionRow> {
    let stored: ConnectionRow | undefined
    const demoted: string[] = []
    for (let attempt = 0; !stored; attempt++) {
      demoted.length = 0
      try {
        stored = await this.db.transaction().execute(async (tx) => {
          let replaced: ConnectionRow | undefined
          const row = await this.#writeBuilt(
            tx,
            key,
            (existing) => {
              replaced = existing
              return build(existing)
            },
            demoted,
          )
          // Webhooks (0008): the outbox row commits (or rolls back) with the connection.
          if (events) await writeOutbox(tx, events(row, replaced))
          await tx
            .updateTable('flows')
            .set({
              status: 'completed',
              connection_id: row.id,
              completed_at: row.updated_at,
              grant_enc: null,
              code_verifier_enc: null,
              state_enc: null,
            })
            .where('id', '=', flowId)
            .execute()
          return row
        })
      } catch (err) {
        // Two first grants for one (user, provider) racing on PostgreSQL: the loser retries and updates.
        if (attempt > 0 || !isUniqueViolation(err)) throw err
      }
    }
    for (const id of demoted) await this.publish({ channel: 'connection', id })
    await this.publish({ channel: 'connection', id: stored.id })
    await this.publish({ channel: 'flow', id: flowId })
    return stored
  }

  /**
   * The builder sees the current row (locked on PostgreSQL) and returns the full new one: the
   * connection id, and so the key material bound into its ciphertexts, is settled before any
   * token is encrypted, and the caller decides what of the old grant to keep. Which row is the
   * current one, and the default flag: see `Store.completeFlowWithConnection` (0010-accounts).
   * Ids of connections that stopped being the default are pushed to `demoted` (their cached
   * rows must be dropped too).
   */
  async #writeBuilt(
    tx: Transaction<Database>,
    key: ConnectionTarget,
    build: (existing: ConnectionRow | undefined) => ConnectionBuilt,
    demoted: string[],
  ): Promise<ConnectionRow> {
    const rows = () =>
      tx.selectFrom('connections').selectAll().where('user_id', '=', key.user_id).where('provider_id', '=', key.provider_id)
    const first = async (q: ReturnType<typeof rows>) => (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst()
    const accountId = key.account_id ?? null
    const makeDefault = key.make_default ?? true
    const dflt = await first(rows().where('is_default', '=', 1))
    let current = accountId === null ? undefined : await first(rows().where('account_id', '=', accountId))
    if (!current) {
      const target = key.connection_id ? await first(rows().where('id', '=', key.connection_id)) : makeDefault ? dflt : undefined
      // Only a row whose account is unknown (or a grant whose account is) may be taken over.
      if (target && (accountId === null || target.account_id === null)) current = target
    }
    const existing = current && decodeConnection(current)
    const row = build(existing)
    if (row.user_id !== key.user_id || row.provider_id !== key.provider_id || (existing && row.id !== existing.id)) {
      throw new Error('a connection builder must keep the user, the provider and an existing id')
    }
    const isDefault = makeDefault || dflt === undefined ? 1 : (existing?.is_default ?? 0)
    if (isDefault === 1 && dflt && dflt.id !== row.id) {
      await tx.updateTable('connections').set({ is_default: 0 }).where('id', '=', dflt.id).execute()
      demoted.push(dflt.id)
    }
    const values = encodeConnection({ ...row, is_default: isDefault, generation: existing ? existing.generation + 1 : 0 })
    if (existing) {
      const { id: _id, created_at: _c, ...changes } = values
      await tx.updateTable('connections').set(changes).where('id', '=', existing.id).execute()
    } else {
      await tx.insertInto('connections').values(values).execute()
    }
    return decodeConnection(values)
  }

  /** Open flows (pending, not called back, not expired): the `latchkey_pending_flows` gauge. */
  async countOpenFlows(now: number): Promise<number> {
    const { n } = await this.db
      .selectFrom('flows')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .where('callback_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow()
    return Number(n)
  }

  async failInterruptedCallbacks(
    calledBackBefore: number,
    reason: { error: FlowFailureCode; error_description: string },
    events?: (flow: Pick<FlowRow, 'id' | 'user_id' | 'provider_id'>) => OutboxEvent[],
  ): Promise<Array<Pick<FlowRow, 'id' | 'user_id' | 'provider_id'>>> {
    const fail = (db: Db) =>
      db
        .updateTable('flows')
        .set({ status: 'failed', error: reason.error, error_description: reason.error_description })
        .where('status', '=', 'pending')
        .where('callback_at', 'is not', null)
        .where('callback_at', '<', calledBackBefore)
        .where('grant_enc', 'is', null)
        .returning(['id', 'user_id', 'provider_id'])
        .execute()
    // Webhooks (0008): the failures' events commit with them.
    const failed = events
      ? await this.db.transaction().execute(async (tx) => {
          const rows = await fail(tx)
          await writeOutbox(tx, rows.flatMap(events))
          return rows
        })
      : await fail(this.db)
    // Like every flow write: after the commit, so waiters on any process wake to the failure.
    for (const f of failed) await this.publish({ channel: 'flow', id: f.id })
    return failed
  }

  async deleteExpiredFlows(before: number, limit = 1000): Promise<number> {
    const r = await this.db
      .deleteFrom('flows')
      .where('id', 'in', this.#batch('flows', 'expires_at', before, limit))
      .executeTakeFirst()
    return Number(r.numDeletedRows)
  }

  /**
   * Ids of up to `limit` rows of `table` whose `column` is before `before`: one bounded delete at
   * a time (a short write lock on SQLite). On PostgreSQL rows another sweep has locked are
   * skipped, so sweeps on several processes never wait on each other or delete a row twice.
   */
  #batch(table: 'flows' | 'audit_log', column: 'expires_at' | 'at', before: number, limit: number) {
    const q = this.db
      .selectFrom(table as 'flows')
      .select('id')
      .where(column as 'expires_at', '<', before)
      .limit(limit)
    return this.dialect === 'postgres' ? q.forUpdate().skipLocked() : q
  }

  // ---------------------------------------------------------------- connections

  async getConnection(userId: string, providerId: string): Promise<ConnectionRow | undefined> {
    const r = await this.#reads.connectionByKey(userId, providerId)
    return r && decodeConnection(r)
  }

  async getConnectionById(id: string): Promise<ConnectionRow | undefined> {
    const r = await this.#reads.connectionById(id)
    return r && decodeConnection(r)
  }

  async updateConnection(id: string, patch: ConnectionPatch): Promise<void> {
    await updateConnectionIn(this.db, id, patch)
    // Bookkeeping-only writes (last use) do not change what a cache would hand out.
    if (Object.keys(patch).some((k) => k !== 'last_used_at')) await this.publish({ channel: 'connection', id })
  }

  async listConnections(filter: ConnectionFilter, limit: number, offset: number): Promise<{ items: ConnectionRow[]; total: number }> {
    let q = this.db.selectFrom('connections')
    if (filter.user_id !== undefined) q = q.where('user_id', '=', filter.user_id)
    if (filter.provider_id !== undefined) q = q.where('provider_id', '=', filter.provider_id)
    if (filter.status !== undefined) q = q.where('status', '=', filter.status)
    // dashboard (issue 12): the provider account, by its id or its label
    if (filter.account !== undefined) {
      const account = filter.account
      q = q.where((eb) => eb.or([eb('account_id', '=', account), eb('account_label', '=', account)]))
    }
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ])
    return { items: rows.map(decodeConnection), total: Number(count.n) }
  }

  /** Connections by status: the `latchkey_connections` gauge (served by the connections_expires index, which leads with status). */
  async countConnectionsByStatus(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('connections')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute()
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
  }

  async deleteConnection(id: string, events?: readonly OutboxEvent[]): Promise<boolean> {
    const done = await withOutbox(this.db, events, (db) => deleteConnectionIn(db, id))
    await this.publish({ channel: 'connection', id })
    return done
  }

  async touchConnections(uses: ReadonlyMap<string, number>): Promise<void> {
    const all = [...uses]
    if (this.dialect === 'postgres') {
      // One statement for any batch size: the ids and times travel as two arrays.
      if (all.length === 0) return
      await sql`update connections as c set last_used_at = v.at
        from (select unnest(${all.map(([id]) => id)}::text[]) as id, unnest(${all.map(([, at]) => at)}::bigint[]) as at) as v
        where c.id = v.id and (c.last_used_at is null or c.last_used_at < v.at)`.execute(this.db)
      return
    }
    // SQLite: 2 variables per row, 1,000 rows per statement (far below its 32,766 limit).
    for (let i = 0; i < all.length; i += 1000) {
      const rows = sql.join(all.slice(i, i + 1000).map(([id, at]) => sql`(${id}, ${at})`))
      await sql`update connections set last_used_at = v.column2 from (values ${rows}) as v
        where connections.id = v.column1 and (connections.last_used_at is null or connections.last_used_at < v.column2)`.execute(this.db)
    }
  }

  async listConnectionsToRefresh(before: number, now: number, limit: number): Promise<ConnectionRow[]> {
    const rows = await this.db
      .selectFrom('connections')
      .selectAll()
      .where('status', '=', 'active')
      .where('refresh_token_enc', 'is not', null)
      .where('expires_at', 'is not', null)
      .where('expires_at', '<', before)
      // A token that lives shorter than the window is due at half its life (see broker/refresher.ts
      // refreshMargin): expires_at - now <= (expires_at - token_issued_at) / 2.
      .where((eb) => eb.or([eb('token_issued_at', 'is', null), eb(sql<number>`expires_at + token_issued_at`, '<=', 2 * now)]))
      .where((eb) => eb.or([eb('refresh_cooldown_until', 'is', null), eb('refresh_cooldown_until', '<', now)]))
      .orderBy('expires_at')
      .limit(limit)
      .execute()
    return rows.map(decodeConnection)
  }

  async withRefreshLock<T>(connectionId: string, fn: (locked: LockedConnection) => Promise<T>): Promise<T> {
    let wrote = false
    const tracked = (locked: LockedConnection): LockedConnection => ({
      current: locked.current,
      update: async (patch, events) => {
        const done = await locked.update(patch, events)
        wrote ||= done
        return done
      },
      delete: async (events) => {
        const done = await locked.delete(events)
        wrote ||= done
        return done
      },
    })
    const result =
      this.dialect === 'postgres'
        ? await this.db.transaction().execute(async (tx) => {
            // Row lock: other processes queue here; a crashed holder's lock dies with its session.
            const row = await tx.selectFrom('connections').selectAll().where('id', '=', connectionId).forUpdate().executeTakeFirst()
            return fn(
              tracked({
                current: row && decodeConnection(row),
                update: (patch, events) => withOutbox(tx, events, (db) => updateConnectionIn(db, connectionId, patch, row?.generation)),
                delete: (events) => withOutbox(tx, events, (db) => deleteConnectionIn(db, connectionId, row?.generation)),
              }),
            )
          })
        : await this.#withLease(connectionId, (locked) => fn(tracked(locked)))
    // After the commit, so no process re-reads the old row on the strength of this event.
    if (wrote) await this.publish({ channel: 'connection', id: connectionId })
    return result
  }

  async #withLease<T>(connectionId: string, fn: (locked: LockedConnection) => Promise<T>): Promise<T> {
    // h7-perf (refresh throughput): two statements per refresh instead of four. Taking the lease
    // returns the row (no separate read), and the holder's first successful write clears the
    // lease in the same statement (no separate release): every holder (the refresher, a delete)
    // writes at most once and returns. The release in `finally` remains for holders that wrote
    // nothing or whose write lost to a newer grant.
    const owner = randomUUID()
    const deadline = Date.now() + this.#leaseMs * 2
    let row: ConnectionsTable | undefined
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const now = Date.now()
      row = await this.#lease.take(connectionId, owner, now + this.#leaseMs, now)
      if (row) break
      const exists = await this.db.selectFrom('connections').select('id').where('id', '=', connectionId).executeTakeFirst()
      if (!exists) return fn({ current: undefined, update: async () => false, delete: async () => false })
      if (Date.now() > deadline)
        throw new LatchkeyError('UNAVAILABLE', `connection ${connectionId} is locked by a refresh that has not finished; retry shortly`)
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
    let released = false
    try {
      const current = decodeConnection(row)
      return await fn({
        current,
        update: async (patch, events) => {
          const done = await this.#lease.write(
            connectionId,
            released ? patch : { ...patch, refresh_lease_owner: null, refresh_lease_until: null },
            current.generation,
            events,
          )
          released ||= done
          return done
        },
        delete: async (events) => {
          const done = await withOutbox(this.db, events, (db) => deleteConnectionIn(db, connectionId, current.generation))
          released ||= done
          return done
        },
      })
    } finally {
      if (!released)
        await this.db
          .updateTable('connections')
          .set({ refresh_lease_owner: null, refresh_lease_until: null })
          .where('id', '=', connectionId)
          .where('refresh_lease_owner', '=', owner)
          .execute()
    }
  }

  // ---------------------------------------------------------------- providers

  async upsertProvider(row: ProviderRow): Promise<void> {
    await this.db
      .insertInto('providers')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ config: row.config, client_secret_enc: row.client_secret_enc, updated_at: row.updated_at }),
      )
      .execute()
  }

  async getProvider(id: string): Promise<ProviderRow | undefined> {
    return await this.db.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst()
  }

  async listProviders(): Promise<ProviderRow[]> {
    return await this.db.selectFrom('providers').selectAll().orderBy('id').execute()
  }

  async deleteProvider(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('providers').where('id', '=', id).executeTakeFirst()
    return Number(r.numDeletedRows) > 0
  }

  // ---------------------------------------------------------------- audit

  async appendAudit(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return
    // Parameter limits: SQLite allows 32766 variables per statement; 8 columns × 500 rows is safe.
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500).map((e) => ({ ...e, detail: e.detail === null ? null : JSON.stringify(e.detail) }))
      // Idempotent by id: a batch retried after a commit whose answer was lost is not written twice.
      await this.db
        .insertInto('audit_log')
        .values(chunk)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute()
    }
  }

  async deleteAuditBefore(before: number, limit = 1000): Promise<number> {
    const r = await this.db
      .deleteFrom('audit_log')
      .where('id', 'in', this.#batch('audit_log', 'at', before, limit))
      .executeTakeFirst()
    return Number(r.numDeletedRows)
  }

  async listAudit(filter: AuditFilter, limit: number, offset: number): Promise<{ items: AuditEntry[]; total: number }> {
    let q = this.db.selectFrom('audit_log')
    for (const key of ['user_id', 'provider_id', 'connection_id', 'action', 'actor'] as const) {
      const v = filter[key]
      if (v !== undefined) q = q.where(key, '=', v)
    }
    if (filter.since !== undefined) q = q.where('at', '>=', filter.since)
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ])
    return {
      items: rows.map((r) => ({ ...r, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>) })),
      total: Number(count.n),
    }
  }

  // ---------------------------------------------------------------- process keys

  async announceProcessKeys(id: string, fingerprints: Record<string, string>, now: number, staleBefore: number): Promise<void> {
    const key_fingerprints = JSON.stringify(fingerprints)
    await this.db
      .insertInto('latchkey_process_keys')
      .values({ id, key_fingerprints, last_seen: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ key_fingerprints, last_seen: now }))
      .execute()
    await this.db.deleteFrom('latchkey_process_keys').where('last_seen', '<', staleBefore).execute()
  }

  async listProcessKeys(since: number): Promise<Array<{ id: string; fingerprints: Record<string, string>; lastSeen: number }>> {
    const rows = await this.db.selectFrom('latchkey_process_keys').selectAll().where('last_seen', '>=', since).orderBy('id').execute()
    return rows.map((r) => ({ id: r.id, fingerprints: JSON.parse(r.key_fingerprints) as Record<string, string>, lastSeen: r.last_seen }))
  }

  async removeProcessKeys(id: string): Promise<void> {
    await this.db.deleteFrom('latchkey_process_keys').where('id', '=', id).execute()
  }

  // ---------------------------------------------------------------- meta

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.db.selectFrom('latchkey_meta').select('value').where('key', '=', key).executeTakeFirst())?.value
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('latchkey_meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute()
  }

  // ---------------------------------------------------------------- secrets (key rotation)

  async listSecrets(table: SecretTable, afterId: string, limit: number): Promise<SecretRow[]> {
    const cols = SECRET_COLUMNS[table]
    const key = SECRET_KEYS[table] ?? 'id'
    const rows = (await this.db
      .selectFrom(table as never)
      .select([key, ...cols] as never[])
      .where(key as never, '>', afterId as never)
      .orderBy(key as never)
      .limit(limit)
      .execute()) as unknown as Array<Record<string, string | null>>
    return rows.map((r) => ({ id: r[key]!, fields: Object.fromEntries(cols.map((c) => [c, r[c] ?? null])) }))
  }

  async getSecrets(table: SecretTable, id: string): Promise<SecretRow | undefined> {
    const cols = SECRET_COLUMNS[table]
    const key = SECRET_KEYS[table] ?? 'id'
    const r = (await this.db
      .selectFrom(table as never)
      .select([key, ...cols] as never[])
      .where(key as never, '=', id as never)
      .executeTakeFirst()) as unknown as Record<string, string | null> | undefined
    return r && { id: r[key]!, fields: Object.fromEntries(cols.map((c) => [c, r[c] ?? null])) }
  }

  async replaceSecrets(table: SecretTable, id: string, before: SecretFields, after: SecretFields): Promise<boolean> {
    // Compare-and-swap: a refresh that rewrote the row meanwhile wins, and the row is retried.
    let q = this.db
      .updateTable(table as never)
      .set(after as never)
      .where((SECRET_KEYS[table] ?? 'id') as never, '=', id as never)
    for (const [col, value] of Object.entries(before)) {
      q = value === null ? q.where(col as never, 'is', null) : q.where(col as never, '=', value as never)
    }
    const r = await q.executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  // ---------------------------------------------------------------- events

  /**
   * Delivers in-process at once, then to other processes. A failing or stalled notify connection
   * must not fail (or hang) the write that was already committed: other processes' caches then
   * fall back to their TTLs and long-polls to their timeouts, so the failure is reported, not thrown.
   */
  async publish(event: StoreEvent): Promise<void> {
    this.#events.emit('event', event)
    if (!this.#bridge) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('publishing a change notification timed out')), 2000)
      timer.unref()
    })
    try {
      await Promise.race([this.#bridge.publish(JSON.stringify({ origin: this.#instance, event })), timeout])
    } catch (err) {
      this.#onPublishError?.(err as Error)
    } finally {
      clearTimeout(timer)
    }
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#events.on('event', listener)
    return () => this.#events.off('event', listener)
  }
}

// ------------------------------------------------------------------ row codecs

type ConnectionBuilt = Omit<ConnectionRow, 'generation' | 'is_default'> & { is_default?: number }

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

function encodeFlow(f: FlowRow) {
  return { ...f, scopes: JSON.stringify(f.scopes), requested_scopes: JSON.stringify(f.requested_scopes) }
}

function decodeFlow(r: Database['flows']): FlowRow {
  return { ...r, scopes: JSON.parse(r.scopes) as string[], requested_scopes: JSON.parse(r.requested_scopes) as string[] }
}

function encodeConnection(c: ConnectionRow): Database['connections'] {
  return {
    ...c,
    scopes: JSON.stringify(c.scopes),
    requested_scopes: c.requested_scopes === null ? null : JSON.stringify(c.requested_scopes),
    user_info: c.user_info === null ? null : JSON.stringify(c.user_info),
  }
}

function decodeConnection(r: Database['connections']): ConnectionRow {
  return {
    ...r,
    scopes: JSON.parse(r.scopes) as string[],
    requested_scopes: r.requested_scopes === null ? null : (JSON.parse(r.requested_scopes) as string[]),
    user_info: r.user_info === null ? null : (JSON.parse(r.user_info) as Record<string, unknown>),
  }
}

/**
 * Webhooks (0008): runs `write` and, when it wrote and there are events, writes them to the
 * outbox in the same transaction (a nested call inside a transaction uses that one).
 */
async function withOutbox(db: Db, events: readonly OutboxEvent[] | undefined, write: (db: Db) => Promise<boolean>): Promise<boolean> {
  if (!events || events.length === 0) return write(db)
  const inTx = async (tx: Db) => {
    const wrote = await write(tx)
    if (wrote) await writeOutbox(tx, events)
    return wrote
  }
  return db.isTransaction ? inTx(db) : (db as Kysely<Database>).transaction().execute(inTx)
}

/** With `expectGeneration`, deletes only the row as it was read (a grant or refresh written since wins). */
async function deleteConnectionIn(db: Db, id: string, expectGeneration?: number): Promise<boolean> {
  // The delete and the promotion of the next default commit together: no moment without a default.
  if (!db.isTransaction) return (db as Kysely<Database>).transaction().execute((tx) => deleteConnectionIn(tx, id, expectGeneration))
  let q = db.deleteFrom('connections').where('id', '=', id)
  if (expectGeneration !== undefined) q = q.where('generation', '=', expectGeneration)
  const gone = await q.returning(['user_id', 'provider_id', 'is_default']).executeTakeFirst()
  // 0010-accounts: the default went, so the most recently granted remaining connection becomes
  // it. (The deleted row's event drops the cached default; the promoted row was not cached as it.)
  if (gone?.is_default === 1) {
    const next = db
      .selectFrom('connections')
      .select('id')
      .where('user_id', '=', gone.user_id)
      .where('provider_id', '=', gone.provider_id)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
    await db
      .updateTable('connections')
      .set({ is_default: 1 })
      .where('id', '=', (eb) => eb.selectFrom(next.as('n')).select('n.id'))
      .execute()
  }
  // 0009-mcp: which MCP client a connection's grant belongs to (keyed by connection id) goes
  // with it, in the same transaction, whichever path deleted it and whether or not its provider
  // is still registered.
  if (gone) await sql`delete from mcp_grant_bindings where id = ${id}`.execute(db)
  return gone !== undefined
}

async function updateConnectionIn(db: Db, id: string, patch: ConnectionPatch, expectGeneration?: number): Promise<boolean> {
  const encoded = encodePatch(patch)
  if (!encoded) return false
  const { set, tokensChanged } = encoded
  let q = db
    .updateTable('connections')
    .set({ ...(set as object), ...(tokensChanged ? { generation: sql<number>`generation + 1` } : {}) })
    .where('id', '=', id)
  if (expectGeneration !== undefined) q = q.where('generation', '=', expectGeneration)
  const r = await q.executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}
