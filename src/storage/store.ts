/**
 * @module storage/store
 * The narrow storage contract Latchkey needs: named after what the broker does, not CRUD.
 * One implementation (`kysely-store.ts`) serves SQLite and PostgreSQL; one conformance suite
 * (`test/storage/store.conformance.ts`) runs on both.
 *
 * The store never sees a plaintext token: `*_enc` fields are keyring envelopes.
 */
import { FLOW_FAILURE_CODES, type FlowFailureCode } from '@latchkey/client'
import type { ApiKeysTable, AuditTable, ConnectionsTable, FlowsTable, ProvidersTable } from './schema.js'
import type { OutboxEvent } from './webhook-store.js'

export type { OutboxEvent }

export type ApiKeyRow = ApiKeysTable
export type ProviderRow = ProvidersTable

export interface FlowRow extends Omit<FlowsTable, 'scopes' | 'requested_scopes'> {
  scopes: string[]
  requested_scopes: string[]
}

export interface ConnectionRow extends Omit<ConnectionsTable, 'scopes' | 'requested_scopes' | 'user_info'> {
  scopes: string[]
  /** What the last grant asked the provider for; null when not recorded (rows older than 0012). */
  requested_scopes: string[] | null
  user_info: Record<string, unknown> | null
}

export type ConnectionPatch = Partial<Omit<ConnectionRow, 'id' | 'user_id' | 'provider_id' | 'created_at' | 'generation' | 'is_default'>>
export type FlowPatch = Partial<
  Pick<
    FlowRow,
    'status' | 'error' | 'error_description' | 'connection_id' | 'grant_enc' | 'browser_binding' | 'completed_at' | 'expires_at'
  >
>

export interface AuditEntry extends Omit<AuditTable, 'detail'> {
  detail: Record<string, unknown> | null
}

export interface ConnectionFilter {
  user_id?: string | undefined
  provider_id?: string | undefined
  status?: ConnectionRow['status'] | undefined
  /** The provider account's id or label, exactly (the dashboard's search). */
  account?: string | undefined
}

export interface AuditFilter {
  user_id?: string | undefined
  provider_id?: string | undefined
  connection_id?: string | undefined
  action?: string | undefined
  actor?: string | undefined
  since?: number | undefined
}

/** What a refresh may do while it holds the connection's lock. */
export interface LockedConnection {
  /** The connection as re-read after the lock was taken (undefined if deleted meanwhile). */
  current: ConnectionRow | undefined
  /**
   * Writes within the lock, only if the row is still the one that was read (same `generation`:
   * a grant that landed meanwhile wins). Returns false when nothing was written.
   */
  update(patch: ConnectionPatch, events?: readonly OutboxEvent[]): Promise<boolean>
  /**
   * Deletes the connection within the lock, only if it is still the row that was read (false
   * when a grant or refresh wrote it meanwhile); a refresh queued behind finds no row.
   */
  delete(events?: readonly OutboxEvent[]): Promise<boolean>
}

/**
 * Change notifications. The store publishes `connection` and `flow` events itself, after the
 * commit of every write that changes a connection's tokens, status or scopes (so caches on every
 * process can drop it) or a flow's status or held grant (so long-polls wake): no caller can
 * forget one.
 */
export type StoreEvent =
  | { channel: 'flow'; id: string }
  | { channel: 'api_key'; id: string }
  | { channel: 'provider'; id: string }
  | { channel: 'connection'; id: string }
  /**
   * Whether other processes' events are arriving (`eventsLive`) changed. While they are not
   * (PostgreSQL's listener connection dropped and is being re-opened), events may be lost: a
   * cache kept exact by events must drop everything and stop serving from memory until they are
   * live again (and drop everything then too, for what was missed meanwhile).
   */
  | { channel: 'events'; live: boolean }

export interface Store {
  readonly dialect: 'sqlite' | 'postgres'
  migrate(): Promise<string[]>
  /** Throws when the database cannot answer. */
  ping(): Promise<void>
  /**
   * True while an outage is under way: the last database call failed for a connection-level
   * reason (`StoreUnavailableError`) and none has succeeded since.
   */
  readonly unavailable: boolean
  /** A real, cheap write (one meta row): readiness means the database accepts writes, not only reads. */
  heartbeat(at: number): Promise<void>
  close(): Promise<void>

  insertApiKey(row: ApiKeyRow): Promise<void>
  getApiKey(id: string): Promise<ApiKeyRow | undefined>
  listApiKeys(): Promise<ApiKeyRow[]>
  /** Returns false when no such key (or already revoked). */
  revokeApiKey(id: string, at: number): Promise<boolean>
  touchApiKey(id: string, at: number): Promise<void>
  countUsableApiKeys(now: number): Promise<number>

  /**
   * Inserts the flow unless an open flow (pending, not opened by any browser, not called back,
   * valid for at least another minute) exists for the same user, provider and scope set; then
   * returns that one. A flow a browser has continued on is never reused: it only works in that
   * browser, so another person (or the same one elsewhere) needs a new link. Safe under
   * concurrency across processes (a partial unique index decides). A new flow is refused with
   * `OpenFlowLimitError` when the user already has `maxOpenPerUser` open flows (reuse never is).
   */
  createOrReuseFlow(
    row: FlowRow,
    now: number,
    maxOpenPerUser?: number,
    /** Events of an open flow found expired (and failed) on the way, written in its transaction. */
    expiredEvents?: (flow: FlowRow) => OutboxEvent[],
  ): Promise<{ flow: FlowRow; created: boolean }>
  getFlow(id: string): Promise<FlowRow | undefined>
  /** By `crypto/state-hash`'s hash of the state the callback carries. */
  getFlowByStateHash(stateHash: string): Promise<FlowRow | undefined>
  /** Records the first browser that opened the link. True only for the first call. */
  markFlowOpened(id: string, browserBinding: string, at: number): Promise<boolean>
  /** Single use of `state`: true only for the first call, and only while the flow is pending. */
  consumeFlowCallback(id: string, at: number): Promise<boolean>
  /**
   * Writes only while the flow is pending: a completed or failed flow is final (a late failure
   * never undoes a completion). Returns false when nothing was written. `events` (webhooks) are
   * written in the same transaction, only when the flow was.
   */
  updateFlow(id: string, patch: FlowPatch, events?: readonly OutboxEvent[]): Promise<boolean>
  /**
   * In one transaction: create or update a connection of the (user, provider) and mark the flow
   * completed with it. Which connection a grant updates (`ConnectionTarget`, 0010-accounts): the
   * one of the same provider account; else the flow's target connection, or for a flow without
   * an account selector the default one, when that one's account is unknown (or the grant's is);
   * else a new connection is added. `build` receives that row (locked on PostgreSQL) and returns
   * the complete new one, keeping an existing id: the id, and so the key material bound into the
   * row's ciphertexts, is settled before anything is encrypted, and the caller decides what of an
   * old grant to keep. The store sets `is_default` (see `ConnectionTarget.make_default`).
   * Returns the stored connection. `events` (webhooks) are written in the same transaction,
   * from the stored row and the one it replaced.
   */
  completeFlowWithConnection(
    flowId: string,
    key: ConnectionTarget,
    build: (existing: ConnectionRow | undefined) => Omit<ConnectionRow, 'generation' | 'is_default'> & { is_default?: number },
    events?: (stored: ConnectionRow, existing: ConnectionRow | undefined) => OutboxEvent[],
  ): Promise<ConnectionRow>
  /** Open flows (pending, not called back, not expired at `now`), all users. */
  countOpenFlows(now: number): Promise<number>
  /**
   * Fails pending flows whose callback was consumed before `calledBackBefore` and that hold no
   * grant (their exchange never finished: its process died). Returns the flows it failed.
   */
  failInterruptedCallbacks(
    calledBackBefore: number,
    reason: { error: FlowFailureCode; error_description: string },
    events?: (flow: Pick<FlowRow, 'id' | 'user_id' | 'provider_id'>) => OutboxEvent[],
  ): Promise<Array<Pick<FlowRow, 'id' | 'user_id' | 'provider_id'>>>
  /** Deletes up to `limit` (default 1000) flows that expired before `before`; returns how many. */
  deleteExpiredFlows(before: number, limit?: number): Promise<number>

  /** The user's default connection for the provider (`is_default`; a direct index lookup, the hot path's). */
  getConnection(userId: string, providerId: string): Promise<ConnectionRow | undefined>
  getConnectionById(id: string): Promise<ConnectionRow | undefined>
  updateConnection(id: string, patch: ConnectionPatch): Promise<void>
  listConnections(filter: ConnectionFilter, limit: number, offset: number): Promise<{ items: ConnectionRow[]; total: number }>
  /** Number of connections per status (statuses without any are absent). */
  countConnectionsByStatus(): Promise<Record<string, number>>
  /** `events` (webhooks) are written in the same transaction, only when a row was deleted. */
  deleteConnection(id: string, events?: readonly OutboxEvent[]): Promise<boolean>
  /**
   * Records last uses (connection id → time) in one batched write: a time only moves forward
   * (processes flushing out of order never set it back), unknown ids are skipped, and nothing is
   * published (bookkeeping does not change what a cache hands out).
   */
  touchConnections(uses: ReadonlyMap<string, number>): Promise<void>
  /**
   * Active connections with a refresh token, not cooling down, whose access token expires before
   * `before` and is past half its lifetime at `now` (when its issue time is known).
   */
  listConnectionsToRefresh(before: number, now: number, limit: number): Promise<ConnectionRow[]>
  /**
   * Runs `fn` holding the connection's refresh lock across processes (PostgreSQL: row lock in a
   * transaction, released if the process dies; SQLite: a lease row field with a deadline).
   */
  withRefreshLock<T>(connectionId: string, fn: (locked: LockedConnection) => Promise<T>): Promise<T>

  upsertProvider(row: ProviderRow): Promise<void>
  getProvider(id: string): Promise<ProviderRow | undefined>
  listProviders(): Promise<ProviderRow[]>
  deleteProvider(id: string): Promise<boolean>

  /** Inserts entries; an entry whose id is already stored is skipped (a retried batch is written once). */
  appendAudit(entries: AuditEntry[]): Promise<void>
  /** Deletes up to `limit` (default 1000) audit entries recorded before `before`; returns how many. */
  deleteAuditBefore(before: number, limit?: number): Promise<number>
  listAudit(filter: AuditFilter, limit: number, offset: number): Promise<{ items: AuditEntry[]; total: number }>

  /** Announces (or refreshes) a process's key fingerprints; rows not seen since `staleBefore` are removed. */
  announceProcessKeys(id: string, fingerprints: Record<string, string>, now: number, staleBefore: number): Promise<void>
  /** Processes seen at or after `since`, with the key fingerprints they hold. */
  listProcessKeys(since: number): Promise<Array<{ id: string; fingerprints: Record<string, string>; lastSeen: number }>>
  removeProcessKeys(id: string): Promise<void>

  getMeta(key: string): Promise<string | undefined>
  setMeta(key: string, value: string): Promise<void>

  /** Every stored envelope, in batches, for re-encryption under a new key. */
  listSecrets(table: SecretTable, afterId: string, limit: number): Promise<SecretRow[]>
  getSecrets(table: SecretTable, id: string): Promise<SecretRow | undefined>
  /** Writes re-encrypted envelopes only if the row still holds the `before` values. */
  replaceSecrets(table: SecretTable, id: string, before: SecretFields, after: SecretFields): Promise<boolean>

  /** False while events from other processes may be lost (see the `events` channel). */
  readonly eventsLive: boolean
  /** Publishes an event to every process on this database (and this one). */
  publish(event: StoreEvent): Promise<void>
  subscribe(listener: (event: StoreEvent) => void): () => void
}

// ---- 0010-accounts ----
/** Which connection a grant writes (`completeFlowWithConnection`). */
export interface ConnectionTarget {
  user_id: string
  provider_id: string
  /** The provider account the grant is for (from user info), when known. */
  account_id?: string | null | undefined
  /** The connection the flow's account selector named or matched, if any. */
  connection_id?: string | null | undefined
  /**
   * Whether the written connection becomes the default (default true: a flow without account
   * selector). A user's first connection for a provider is the default whatever this says;
   * when a default is set, the previous one stops being it.
   */
  make_default?: boolean | undefined
}
// ---- end 0010-accounts ----

/**
 * How a pending flow that outlived its link is failed, wherever that is noticed (reused on a new
 * authorize, read by a status poll, swept): one reason, so the app and its webhook see the same.
 */
export const EXPIRED_FLOW = {
  error: FLOW_FAILURE_CODES.EXPIRED,
  error_description: 'the authorization expired before it was completed',
} as const

/** Thrown by `createOrReuseFlow` when the user has as many open flows as allowed. */
export class OpenFlowLimitError extends Error {
  constructor(readonly open: number) {
    super(`the user already has ${open} open authorization flows`)
    this.name = 'OpenFlowLimitError'
  }
}

/** Tables holding sealed secrets (key rotation walks them all). */
export type SecretTable = 'connections' | 'flows' | 'providers' | 'webhook_endpoints' | 'mcp_client_registrations'
export type SecretFields = Record<string, string | null>
export interface SecretRow {
  id: string
  fields: SecretFields
}
