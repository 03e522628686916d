/**
 * @module broker/connection-cache
 * The hot path's connection lookup, kept in memory: `authorize` for a connected user reads the
 * (user, provider) connection row from here instead of the database. Every write to a
 * connection publishes a store event (across processes on PostgreSQL via LISTEN/NOTIFY) that
 * drops the entry; a short TTL bounds staleness should an event be lost while the listener
 * reconnects. The decrypted access token is memoised with its row (the process holds the keys
 * anyway, so this adds no exposure), saving an AES-GCM decryption per hand-out, and so is the
 * serialized `completed` answer built from them (a row never changes: a write replaces it).
 *
 * A read that raced a write must not re-insert the old row: every drop bumps an epoch, and a row
 * read before the latest drop is not cached.
 */
import type { ConnectionRow, Store } from '../storage/store.js'

export class ConnectionCache {
  #byKey = new Map<string, { row: ConnectionRow; until: number }>()
  #handOuts = new WeakMap<ConnectionRow, { token: string; answer?: string }>()
  #keyById = new Map<string, string>()
  #epoch = 0
  #touched = new Map<string, number>()
  readonly #unsubscribe: () => void

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 2000,
    private readonly maxEntries = 50_000,
  ) {
    this.#unsubscribe = store.subscribe((e) => {
      if (e.channel === 'connection') this.drop(e.id)
    })
  }

  /** The cached row, if fresh; no I/O. */
  peek(userId: string, providerId: string): ConnectionRow | undefined {
    const hit = this.#byKey.get(`${providerId}\u0000${userId}`)
    return hit && hit.until > Date.now() ? hit.row : undefined
  }

  async get(userId: string, providerId: string): Promise<ConnectionRow | undefined> {
    const key = `${providerId}\u0000${userId}`
    const hit = this.#byKey.get(key)
    const now = Date.now()
    if (hit && hit.until > now) return hit.row
    const epoch = this.#epoch
    const row = await this.store.getConnection(userId, providerId)
    if (row && epoch === this.#epoch) {
      if (this.#byKey.size >= this.maxEntries) this.clear()
      this.#byKey.set(key, { row, until: now + this.ttlMs })
      this.#keyById.set(row.id, key)
    }
    return row
  }

  /** The row's access token, decrypted once per cached row. */
  accessToken(row: ConnectionRow, decrypt: () => string): string {
    let memo = this.#handOuts.get(row)
    if (memo === undefined) {
      memo = { token: decrypt() }
      this.#handOuts.set(row, memo)
    }
    return memo.token
  }

  /** The row's serialized `completed` answer, built once per row (after `accessToken`). */
  answer(row: ConnectionRow, build: () => string): string {
    const memo = this.#handOuts.get(row)
    if (memo === undefined) return build()
    memo.answer ??= build()
    return memo.answer
  }

  /** Last-used times are written at most once a minute per connection: true when one is due. */
  dueForTouch(connectionId: string, now: number): boolean {
    if ((this.#touched.get(connectionId) ?? 0) + 60_000 > now) return false
    if (this.#touched.size >= this.maxEntries) this.#touched.clear()
    this.#touched.set(connectionId, now)
    return true
  }

  drop(connectionId: string): void {
    this.#epoch++
    const key = this.#keyById.get(connectionId)
    if (key === undefined) return
    this.#keyById.delete(connectionId)
    this.#byKey.delete(key)
  }

  clear(): void {
    this.#epoch++
    this.#byKey.clear()
    this.#keyById.clear()
  }

  close(): void {
    this.#unsubscribe()
    this.clear()
  }
}
