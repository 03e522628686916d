/**
 * @module broker/connection-cache
 * The hot path's connection lookup, kept in memory: `authorize` for a connected user reads the
 * (user, provider) connection row from here instead of the database. The decrypted access token
 * is memoised with its row (the process holds the keys anyway, so this adds no exposure), saving
 * an AES-GCM decryption per hand-out, and so is the serialized `completed` answer built from
 * them (a row never changes: a write replaces it).
 *
 * Kept exact by the store's events: every write to a connection publishes one (across processes
 * on PostgreSQL via LISTEN/NOTIFY, sent after the commit) that drops the entry. What that leaves:
 * - A read racing a write must not re-insert the old row: every drop bumps an epoch, and a row
 *   read before the latest drop is not cached. (On another process the old row is served from
 *   the commit until its NOTIFY arrives, typically under a millisecond — as if the read had come
 *   just before the write.)
 * - While other processes' events may be lost (the store's `eventsLive` is false: the listener
 *   connection dropped and is re-opening), the cache holds and serves nothing, and it drops
 *   everything once events are live again. Every read then goes to the database.
 * - A write whose NOTIFY could not be sent (the writer's publish failed; it is logged there) is
 *   bounded by the TTL, the one reason entries expire at all.
 *
 * Bounded: at `maxEntries` the oldest entry is evicted, with a second chance for an entry used
 * since it was inserted (CLOCK, so a hit costs one field write instead of reordering a map);
 * expired entries are swept from the front on every insert. Never a clear-all on size.
 */
import type { ConnectionRow, Store } from '../storage/store.js'

interface Entry {
  key: string
  row: ConnectionRow
  until: number
  used: boolean
}

export interface ConnectionCacheOptions {
  /** Backstop for an event that could not be sent (see above); ms. */
  ttlMs?: number
  maxEntries?: number
}

export class ConnectionCache {
  #byKey = new Map<string, Entry>()
  #handOuts = new WeakMap<ConnectionRow, { token: string; answer?: string }>()
  #keyById = new Map<string, string>()
  #epoch = 0
  #live: boolean
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #store: Store
  readonly #unsubscribe: () => void

  constructor(store: Store, options: ConnectionCacheOptions = {}) {
    this.#store = store
    this.#ttlMs = options.ttlMs ?? 2000
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#live = store.eventsLive
    this.#unsubscribe = store.subscribe((e) => {
      if (e.channel === 'connection') this.drop(e.id)
      else if (e.channel === 'events') {
        this.#live = e.live
        this.clear()
      }
    })
  }

  /** Reads that went to the database (a miss of `get`; `peek` counts nothing: the hot path). */
  misses = 0

  /** Entries held (expired ones not yet swept included); for tests and metrics. */
  get size(): number {
    return this.#byKey.size
  }

  /** The cached row, if fresh; no I/O. */
  peek(userId: string, providerId: string): ConnectionRow | undefined {
    const hit = this.#byKey.get(`${providerId}\u0000${userId}`)
    if (hit === undefined || hit.until <= Date.now()) return undefined
    hit.used = true
    return hit.row
  }

  async get(userId: string, providerId: string): Promise<ConnectionRow | undefined> {
    const cached = this.peek(userId, providerId)
    if (cached) return cached
    this.misses++
    const epoch = this.#epoch
    const row = await this.#store.getConnection(userId, providerId)
    if (row && epoch === this.#epoch && this.#live) this.#insert(`${providerId}\u0000${userId}`, row)
    return row
  }

  #insert(key: string, row: ConnectionRow): void {
    const now = Date.now()
    const old = this.#byKey.get(key)
    if (old) this.#remove(old)
    // Same TTL for all, so insertion order is (nearly) expiry order: expired entries sit in front.
    for (const e of this.#byKey.values()) {
      if (e.until > now) break
      this.#remove(e)
    }
    while (this.#byKey.size >= this.#maxEntries) {
      const oldest = this.#byKey.values().next().value!
      this.#byKey.delete(oldest.key)
      if (oldest.used && oldest.until > now) {
        oldest.used = false
        this.#byKey.set(oldest.key, oldest)
      } else {
        this.#keyById.delete(oldest.row.id)
      }
    }
    this.#byKey.set(key, { key, row, until: now + this.#ttlMs, used: false })
    this.#keyById.set(row.id, key)
  }

  #remove(e: Entry): void {
    this.#byKey.delete(e.key)
    this.#keyById.delete(e.row.id)
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
    return (memo.answer ??= build())
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
