/**
 * @module storage/webhook-store
 * Storage of webhooks: endpoints, the outbox and deliveries (0008-webhooks), on the store's
 * Kysely instance, for SQLite and PostgreSQL.
 *
 * The outbox row is written by `writeOutbox`, which the `Store` calls inside the transaction of
 * the state change that causes the event (a rolled-back change leaves no event; a committed one
 * always has its event). A dispatcher (one at a time: a transaction-scoped advisory lock on
 * PostgreSQL, the write lock on SQLite) fans each event out, in `seq` order, to one delivery per
 * matching endpoint. Deliverers on any process claim due deliveries with a lease (PostgreSQL:
 * `FOR UPDATE SKIP LOCKED`, so two processes never claim one row); a delivery is due only when no
 * older delivery with the same order key (connection, or flow) is still pending for its endpoint,
 * which keeps each connection's events in order per endpoint.
 */
import type { FlowFailureCode } from '@latchkey/client'
import { type Kysely, sql, type Transaction } from 'kysely'
import { orderedId } from './ordered-id.js'
import type { Database, WebhookDeliveriesTable, WebhookEndpointsTable } from './schema.js'

type Db = Kysely<Database> | Transaction<Database>

/** An event as written to the outbox (`payload` is the JSON body that will be signed and sent). */
export interface OutboxEvent {
  id: string
  type: string
  order_key: string
  payload: string
  created_at: number
}

export interface WebhookEndpointRow extends Omit<WebhookEndpointsTable, 'events'> {
  events: string[]
}

type EndpointWritable = Pick<
  WebhookEndpointRow,
  | 'url'
  | 'events'
  | 'description'
  | 'status'
  | 'secret_enc'
  | 'previous_secret_enc'
  | 'previous_secret_expires_at'
  | 'failing_since'
  | 'updated_at'
>
/** Fields left undefined are not written. */
export type WebhookEndpointPatch = { [K in keyof EndpointWritable]?: EndpointWritable[K] | undefined }

export type WebhookDeliveryRow = Omit<WebhookDeliveriesTable, 'lease_owner' | 'lease_until' | 'order_key' | 'event_seq'>

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  id: string
  endpoint_id: string
  event_id: string
  event_type: string
  attempts: number
  created_at: number
  payload: string
  url: string
  secret_enc: string
  previous_secret_enc: string | null
  previous_secret_expires_at: number | null
}

/**
 * Writes outbox rows; called inside the transaction of the change they announce. The SQLite
 * refresh write inserts the same columns with its own prepared statement (prepared-lease.ts).
 */
export async function writeOutbox(db: Db, events: readonly OutboxEvent[]): Promise<void> {
  // 5 columns per row: 500 rows stay far below SQLite's 32,766 variables.
  for (let i = 0; i < events.length; i += 500) {
    await db
      .insertInto('webhook_events')
      .values(events.slice(i, i + 500).map((e) => ({ ...e, dispatched_at: null })))
      .execute()
  }
}

const DISPATCH_LOCK = 0x1a7c_4b0c

export class WebhookStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
  ) {}

  // ------------------------------------------------------------ endpoints

  async listEndpoints(): Promise<WebhookEndpointRow[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute()
    return rows.map(decodeEndpoint)
  }

  async getEndpoint(id: string): Promise<WebhookEndpointRow | undefined> {
    const r = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst()
    return r && decodeEndpoint(r)
  }

  async insertEndpoint(row: WebhookEndpointRow): Promise<void> {
    await this.db
      .insertInto('webhook_endpoints')
      .values({ ...row, events: JSON.stringify(row.events) })
      .execute()
  }

  /**
   * Inserts the endpoint unless one with its id exists (`ON CONFLICT DO NOTHING`); false when it
   * did. Two processes syncing latchkey.yaml at once both succeed, one of them inserting.
   */
  async insertEndpointIfAbsent(row: WebhookEndpointRow): Promise<boolean> {
    const r = await this.db
      .insertInto('webhook_endpoints')
      .values({ ...row, events: JSON.stringify(row.events) })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst()
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0
  }

  async updateEndpoint(id: string, patch: WebhookEndpointPatch): Promise<boolean> {
    const { events, ...rest } = patch
    const set = { ...rest, ...(events !== undefined ? { events: JSON.stringify(events) } : {}) }
    if (Object.values(set).every((v) => v === undefined)) return false
    const r = await this.db.updateTable('webhook_endpoints').set(set).where('id', '=', id).executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  /**
   * Marks an enabled endpoint failing, with its event in the same transaction; false when it
   * was not enabled (another process did it first).
   */
  async markEndpointFailing(id: string, now: number, event: OutboxEvent): Promise<boolean> {
    return await this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('webhook_endpoints')
        .set({ status: 'failing', failing_since: now, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'enabled')
        .executeTakeFirst()
      if (Number(r.numUpdatedRows) === 0) return false
      await writeOutbox(tx, [event])
      return true
    })
  }

  /** Deletes the endpoint and its deliveries. */
  async deleteEndpoint(id: string): Promise<boolean> {
    return await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute()
      const r = await tx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    })
  }

  // ------------------------------------------------------------ outbox → deliveries

  /**
   * Fans out up to `limit` undispatched events, oldest first, to one delivery per endpoint whose
   * filter matches (disabled endpoints get none; failing ones keep theirs until re-enabled).
   * Returns how many events were dispatched (0 also when another process is dispatching).
   */
  async dispatch(now: number, limit: number, matches: (endpointEvents: string[], type: string) => boolean): Promise<number> {
    return await this.db.transaction().execute(async (tx) => {
      if (this.dialect === 'postgres') {
        const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${DISPATCH_LOCK}) as locked`.execute(tx)
        if (!rows[0]?.locked) return 0
      }
      const events = await tx
        .selectFrom('webhook_events')
        .select(['seq', 'id', 'type', 'order_key', 'created_at'])
        .where('dispatched_at', 'is', null)
        .orderBy('seq')
        .limit(limit)
        .execute()
      if (events.length === 0) return 0
      const endpoints = (await tx.selectFrom('webhook_endpoints').select(['id', 'events']).where('status', '!=', 'disabled').execute()).map(
        (e) => ({ id: e.id, events: JSON.parse(e.events) as string[] }),
      )
      const deliveries: WebhookDeliveriesTable[] = []
      for (const e of events) {
        for (const endpoint of endpoints) {
          if (!matches(endpoint.events, e.type)) continue
          deliveries.push({
            id: orderedId('whd_', now),
            endpoint_id: endpoint.id,
            event_id: e.id,
            event_seq: Number(e.seq),
            event_type: e.type,
            order_key: e.order_key,
            status: 'pending',
            attempts: 0,
            next_attempt_at: now,
            lease_owner: null,
            lease_until: null,
            last_status_code: null,
            last_error: null,
            delivered_at: null,
            created_at: Number(e.created_at),
          })
        }
      }
      // 15 columns per row: 1,000 rows stay below SQLite's variable limit.
      for (let i = 0; i < deliveries.length; i += 1000) {
        await tx
          .insertInto('webhook_deliveries')
          .values(deliveries.slice(i, i + 1000))
          .onConflict((oc) => oc.columns(['event_id', 'endpoint_id']).doNothing())
          .execute()
      }
      // By seq list, not by range: an event committed meanwhile with a lower seq is left for the next run.
      await tx
        .updateTable('webhook_events')
        .set({ dispatched_at: now })
        .where(
          'seq',
          'in',
          events.map((e) => e.seq),
        )
        .execute()
      return events.length
    })
  }

  /**
   * Leases up to `limit` due deliveries to `owner` until `now + leaseMs`: pending, on an enabled
   * endpoint, next attempt due, not leased by a live holder, and the oldest pending one of its
   * order key on its endpoint.
   */
  /** `busy`: endpoints with as many sends in flight as one may have (`broker/webhooks.ts`); none of theirs is claimed. */
  async claim(owner: string, now: number, leaseMs: number, limit: number, busy: readonly string[] = []): Promise<ClaimedDelivery[]> {
    // One statement leases the batch (atomic on its own: no transaction, one round trip); a
    // second reads what sending needs. PostgreSQL: SKIP LOCKED keeps two processes off one row.
    const pg = this.dialect === 'postgres'
    const lock = pg ? sql`for update of d skip locked` : sql``
    // PostgreSQL: `= any(array(…))`, not `in (…)`, which it plans as a hash semi-join over a seq
    // scan of every delivery (settled ones are kept for the retention period).
    const [open, close] = pg ? [sql`= any(array(`, sql`))`] : [sql`in (`, sql`)`]
    const { rows } = await sql<{ id: string }>`update webhook_deliveries set lease_owner = ${owner}, lease_until = ${now + leaseMs}
      where id ${open}select d.id from webhook_deliveries d
        join webhook_endpoints e on e.id = d.endpoint_id
        where d.status = 'pending' and e.status = 'enabled' and d.next_attempt_at <= ${now}
          and (d.lease_until is null or d.lease_until < ${now})
          ${busy.length > 0 ? sql`and d.endpoint_id not in (${sql.join(busy)})` : sql``}
          and not exists (select 1 from webhook_deliveries p where p.endpoint_id = d.endpoint_id
            and p.order_key = d.order_key and p.status = 'pending' and p.event_seq < d.event_seq)
        order by d.next_attempt_at, d.event_seq limit ${limit} ${lock}${close}
      returning id`.execute(this.db)
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const claimed = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_events as v', 'v.id', 'd.event_id')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select([
        'd.id',
        'd.endpoint_id',
        'd.event_id',
        'd.event_type',
        'd.attempts',
        'd.created_at',
        'v.payload',
        'e.url',
        'e.secret_enc',
        'e.previous_secret_enc',
        'e.previous_secret_expires_at',
      ])
      .where('d.id', 'in', ids)
      .orderBy('d.event_seq')
      .execute()
    return claimed.map((c) => ({
      ...c,
      attempts: Number(c.attempts),
      created_at: Number(c.created_at),
      previous_secret_expires_at: c.previous_secret_expires_at === null ? null : Number(c.previous_secret_expires_at),
    }))
  }

  /** Gives back leases this owner took and will not send now (they are claimed again when due). */
  async release(owner: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: null, lease_until: null })
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .execute()
  }

  /** Records 2xx answers; only rows still leased to `owner` are written. */
  async markDelivered(owner: string, results: ReadonlyArray<{ id: string; status: number }>, now: number): Promise<void> {
    const byStatus = new Map<number, string[]>()
    for (const r of results) {
      const ids = byStatus.get(r.status)
      if (ids) ids.push(r.id)
      else byStatus.set(r.status, [r.id])
    }
    for (const [status, ids] of byStatus) {
      for (let i = 0; i < ids.length; i += 500) {
        await this.db
          .updateTable('webhook_deliveries')
          .set({
            status: 'delivered',
            delivered_at: now,
            attempts: sql<number>`attempts + 1`,
            last_status_code: status,
            last_error: null,
            lease_owner: null,
            lease_until: null,
          })
          .where('id', 'in', ids.slice(i, i + 500))
          .where('lease_owner', '=', owner)
          .execute()
      }
    }
  }

  /** Records a failed attempt: retried at `nextAttemptAt`, or given up (`failed`) when it is null. */
  async markAttemptFailed(
    owner: string,
    id: string,
    attempt: { statusCode: number | null; error: string; nextAttemptAt: number | null },
  ): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: attempt.nextAttemptAt === null ? 'failed' : 'pending',
        attempts: sql<number>`attempts + 1`,
        last_status_code: attempt.statusCode,
        last_error: attempt.error.slice(0, 500),
        ...(attempt.nextAttemptAt === null ? {} : { next_attempt_at: attempt.nextAttemptAt }),
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute()
  }

  async listDeliveries(
    endpointId: string,
    filter: { status?: WebhookDeliveriesTable['status'] | undefined },
    limit: number,
    offset: number,
  ): Promise<{ items: WebhookDeliveryRow[]; total: number }> {
    let q = this.db.selectFrom('webhook_deliveries').where('endpoint_id', '=', endpointId)
    if (filter.status !== undefined) q = q.where('status', '=', filter.status)
    const [rows, count] = await Promise.all([
      q
        .select([
          'id',
          'endpoint_id',
          'event_id',
          'event_type',
          'status',
          'attempts',
          'next_attempt_at',
          'last_status_code',
          'last_error',
          'delivered_at',
          'created_at',
        ])
        .orderBy('created_at', 'desc')
        .orderBy('event_seq', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ])
    return {
      items: rows.map((r) => ({
        ...r,
        attempts: Number(r.attempts),
        next_attempt_at: Number(r.next_attempt_at),
        created_at: Number(r.created_at),
        delivered_at: r.delivered_at === null ? null : Number(r.delivered_at),
      })),
      total: Number(count.n),
    }
  }

  /** Queues a delivery again (whatever its status); false when the endpoint has no such delivery. */
  async redeliver(endpointId: string, deliveryId: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: now, lease_owner: null, lease_until: null, delivered_at: null })
      .where('id', '=', deliveryId)
      .where('endpoint_id', '=', endpointId)
      .executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  /** The earliest time a pending delivery on an enabled endpoint is due (for the deliverer's timer). */
  async nextDueAt(): Promise<number | undefined> {
    const r = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select((eb) => eb.fn.min('d.next_attempt_at').as('at'))
      .where('d.status', '=', 'pending')
      .where('e.status', '=', 'enabled')
      .executeTakeFirst()
    return r?.at === null || r?.at === undefined ? undefined : Number(r.at)
  }

  /** When the oldest event not yet delivered was written (undispatched, or pending on an enabled endpoint). */
  async oldestUndeliveredAt(): Promise<number | undefined> {
    const [ev, del] = await Promise.all([
      this.db
        .selectFrom('webhook_events')
        .select((eb) => eb.fn.min('created_at').as('at'))
        .where('dispatched_at', 'is', null)
        .executeTakeFirst(),
      this.db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
        .select((eb) => eb.fn.min('d.created_at').as('at'))
        .where('d.status', '=', 'pending')
        .where('e.status', '=', 'enabled')
        .executeTakeFirst(),
    ])
    const times = [ev?.at, del?.at].filter((t) => t !== null && t !== undefined).map(Number)
    return times.length === 0 ? undefined : Math.min(...times)
  }

  // ------------------------------------------------------------ flows that expire unobserved

  /**
   * Fails up to `limit` pending flows whose link expired (`error: expired`), with their events in
   * the same transaction, so a flow nobody polls still announces `authorization.failed` — once:
   * only a row still pending is written. A callback in progress is left to the interrupted-
   * callback sweep. Returns the flows it failed.
   */
  async failExpiredFlows(
    now: number,
    limit: number,
    reason: { error: FlowFailureCode; error_description: string },
    events: (flow: { id: string; user_id: string; provider_id: string }) => OutboxEvent[],
  ): Promise<Array<{ id: string; user_id: string; provider_id: string }>> {
    return await this.db.transaction().execute(async (tx) => {
      let due = tx
        .selectFrom('flows')
        .select('id')
        .where('status', '=', 'pending')
        .where('expires_at', '<=', now)
        .where((eb) => eb.or([eb('callback_at', 'is', null), eb('grant_enc', 'is not', null)]))
        .limit(limit)
      if (this.dialect === 'postgres') due = due.forUpdate().skipLocked()
      const rows = await tx
        .updateTable('flows')
        .set({ status: 'failed', error: reason.error, error_description: reason.error_description, grant_enc: null })
        .where('id', 'in', due)
        .where('status', '=', 'pending')
        .returning(['id', 'user_id', 'provider_id'])
        .execute()
      if (rows.length > 0) await writeOutbox(tx, rows.flatMap(events))
      return rows
    })
  }

  // ------------------------------------------------------------ refresh-token expiry notices

  /** Active connections whose refresh token expires within (now, before] and whose expiry was not announced yet. */
  async connectionsWithExpiringRefreshToken(
    now: number,
    before: number,
    limit: number,
  ): Promise<Array<{ id: string; user_id: string; provider_id: string; status: string; refresh_token_expires_at: number }>> {
    const rows = await this.db
      .selectFrom('connections as c')
      .select(['c.id', 'c.user_id', 'c.provider_id', 'c.status', 'c.refresh_token_expires_at'])
      .where('c.status', '=', 'active')
      .where('c.refresh_token_enc', 'is not', null)
      .where('c.refresh_token_expires_at', '>', now)
      .where('c.refresh_token_expires_at', '<=', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_expiry_notices as n')
              .select('n.connection_id')
              .whereRef('n.connection_id', '=', 'c.id')
              .whereRef('n.expires_at', '=', 'c.refresh_token_expires_at'),
          ),
        ),
      )
      .limit(limit)
      .execute()
    return rows.map((r) => ({ ...r, refresh_token_expires_at: Number(r.refresh_token_expires_at) }))
  }

  /** Records the expiry as announced and writes its event, in one transaction; false when it was already announced. */
  async announceExpiry(connectionId: string, expiresAt: number, event: OutboxEvent): Promise<boolean> {
    return await this.db.transaction().execute(async (tx) => {
      const r = await tx
        .insertInto('webhook_expiry_notices')
        .values({ connection_id: connectionId, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(['connection_id', 'expires_at']).doNothing())
        .executeTakeFirst()
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return false
      await writeOutbox(tx, [event])
      return true
    })
  }

  // ------------------------------------------------------------ retention

  /** Deletes settled deliveries, dispatched events and notices older than `before` (up to `limit` each). */
  async deleteSettledBefore(before: number, limit = 1000): Promise<number> {
    const deliveries = await this.db
      .deleteFrom('webhook_deliveries')
      .where(
        'id',
        'in',
        this.db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '!=', 'pending')
          .where('created_at', '<', before)
          .limit(limit),
      )
      .executeTakeFirst()
    // An event is kept while a delivery still refers to it (redelivery needs its payload).
    const events = await this.db
      .deleteFrom('webhook_events')
      .where(
        'seq',
        'in',
        this.db
          .selectFrom('webhook_events as v')
          .select('v.seq')
          .where('v.dispatched_at', 'is not', null)
          .where('v.created_at', '<', before)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'v.id'))))
          .limit(limit),
      )
      .executeTakeFirst()
    await this.db.deleteFrom('webhook_expiry_notices').where('expires_at', '<', before).execute()
    return Number(deliveries.numDeletedRows) + Number(events.numDeletedRows)
  }
}

function decodeEndpoint(r: WebhookEndpointsTable): WebhookEndpointRow {
  return {
    ...r,
    events: JSON.parse(r.events) as string[],
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    failing_since: r.failing_since === null ? null : Number(r.failing_since),
    previous_secret_expires_at: r.previous_secret_expires_at === null ? null : Number(r.previous_secret_expires_at),
  }
}
