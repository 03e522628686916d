/**
 * @module storage/store
 * The narrow storage contract Latchkey needs: named after what the broker does, not CRUD.
 * One implementation (`kysely-store.ts`) serves SQLite and PostgreSQL; one conformance suite
 * (`test/storage/store.conformance.ts`) runs on both.
 *
 * The store never sees a plaintext token: `*_enc` fields are keyring envelopes.
 */
import type { ApiKeysTable, AuditTable, ConnectionsTable, FlowsTable, ProvidersTable } from './schema.js'

export type ApiKeyRow = ApiKeysTable
export type ProviderRow = ProvidersTable

export interface FlowRow extends Omit<FlowsTable, 'scopes' | 'requested_scopes'> {
  scopes: string[]
  requested_scopes: string[]
}

export interface ConnectionRow extends Omit<ConnectionsTable, 'scopes' | 'user_info'> {
  scopes: string[]
  user_info: Record<string, unknown> | null
}

export type ConnectionPatch = Partial<Omit<ConnectionRow, 'id' | 'user_id' | 'provider_id' | 'created_at' | 'generation'>>
export type FlowPatch = Partial<Pick<FlowRow, 'status' | 'error' | 'error_description' | 'connection_id' | 'grant_enc' | 'completed_at' | 'expires_at'>>

export interface AuditEntry extends Omit<AuditTable, 'detail'> {
  detail: Record<string, unknown> | null
}

export interface ConnectionFilter {
  user_id?: string | undefined
  provider_id?: string | undefined
  status?: ConnectionRow['status'] | undefined
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
  update(patch: ConnectionPatch): Promise<boolean>
  /**
   * Deletes the connection within the lock, only if it is still the row that was read (false
   * when a grant or refresh wrote it meanwhile); a refresh queued behind finds no row.
   */
  delete(): Promise<boolean>
}

/**
 * Change notifications. `connection` events are published by the store itself after every write
 * that changes a connection's tokens, status or scopes (so caches on every process can drop it).
 */
export type StoreEvent =
  | { channel: 'flow'; id: string }
  | { channel: 'api_key'; id: string }
  | { channel: 'provider'; id: string }
  | { channel: 'connection'; id: string }

export interface Store {
  readonly dialect: 'sqlite' | 'postgres'
  migrate(): Promise<string[]>
  /** Throws when the database cannot answer. */
  ping(): Promise<void>
  close(): Promise<void>

  insertApiKey(row: ApiKeyRow): Promise<void>
  getApiKey(id: string): Promise<ApiKeyRow | undefined>
  listApiKeys(): Promise<ApiKeyRow[]>
  /** Returns false when no such key (or already revoked). */
  revokeApiKey(id: string, at: number): Promise<boolean>
  touchApiKey(id: string, at: number): Promise<void>
  countUsableApiKeys(now: number): Promise<number>

  /**
   * Inserts the flow unless an open flow (pending, not called back, valid for at least another
   * minute) exists for the same user, provider and scope set; then returns that one. Safe under
   * concurrency across processes (a partial unique index decides).
   */
  createOrReuseFlow(row: FlowRow, now: number): Promise<{ flow: FlowRow; created: boolean }>
  getFlow(id: string): Promise<FlowRow | undefined>
  /** By `crypto/state-hash`'s hash of the state the callback carries. */
  getFlowByStateHash(stateHash: string): Promise<FlowRow | undefined>
  /** Records the first browser that opened the link. True only for the first call. */
  markFlowOpened(id: string, browserBinding: string, at: number): Promise<boolean>
  /** Single use of `state`: true only for the first call, and only while the flow is pending. */
  consumeFlowCallback(id: string, at: number): Promise<boolean>
  /**
   * Writes only while the flow is pending: a completed or failed flow is final (a late failure
   * never undoes a completion). Returns false when nothing was written.
   */
  updateFlow(id: string, patch: FlowPatch): Promise<boolean>
  /**
   * In one transaction: create or replace the (user, provider) connection and mark the flow
   * completed with it. `build` receives the existing row (locked on PostgreSQL) and returns the
   * complete new one, keeping an existing id: the id, and so the key material bound into the
   * row's ciphertexts, is settled before anything is encrypted, and the caller decides what of an
   * old grant to keep. Returns the stored connection.
   */
  completeFlowWithConnection(
    flowId: string,
    key: { user_id: string; provider_id: string },
    build: (existing: ConnectionRow | undefined) => Omit<ConnectionRow, 'generation'>,
  ): Promise<ConnectionRow>
  /** Deletes flows that expired before `before`. */
  deleteExpiredFlows(before: number): Promise<number>

  getConnection(userId: string, providerId: string): Promise<ConnectionRow | undefined>
  getConnectionById(id: string): Promise<ConnectionRow | undefined>
  updateConnection(id: string, patch: ConnectionPatch): Promise<void>
  listConnections(filter: ConnectionFilter, limit: number, offset: number): Promise<{ items: ConnectionRow[]; total: number }>
  deleteConnection(id: string): Promise<boolean>
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

  appendAudit(entries: AuditEntry[]): Promise<void>
  listAudit(filter: AuditFilter, limit: number, offset: number): Promise<{ items: AuditEntry[]; total: number }>

  /** Announces (or refreshes) a process's key fingerprints; rows not seen since `staleBefore` are removed. */
  announceProcessKeys(id: string, fingerprints: Record<string, string>, now: number, staleBefore: number): Promise<void>
  /** Processes seen at or after `since`, with the key fingerprints they hold. */
  listProcessKeys(since: number): Promise<Array<{ id: string; fingerprints: Record<string, string>; lastSeen: number }>>
  removeProcessKeys(id: string): Promise<void>

  getMeta(key: string): Promise<string | undefined>
  setMeta(key: string, value: string): Promise<void>

  /** Every stored envelope, in batches, for re-encryption under a new key. */
  listSecrets(table: 'connections' | 'flows' | 'providers', afterId: string, limit: number): Promise<SecretRow[]>
  getSecrets(table: 'connections' | 'flows' | 'providers', id: string): Promise<SecretRow | undefined>
  /** Writes re-encrypted envelopes only if the row still holds the `before` values. */
  replaceSecrets(table: 'connections' | 'flows' | 'providers', id: string, before: SecretFields, after: SecretFields): Promise<boolean>

  /** Publishes an event to every process on this database (and this one). */
  publish(event: StoreEvent): Promise<void>
  subscribe(listener: (event: StoreEvent) => void): () => void
}

export type SecretFields = Record<string, string | null>
export interface SecretRow {
  id: string
  fields: SecretFields
}
