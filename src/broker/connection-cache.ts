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
 *   connection dropped and is re-opening) and the database answers, the cache serves nothing and
 *   caches nothing: every read goes to the database. Once events are live again it drops
 *   everything, since some may have been missed.
 * - A write whose NOTIFY could not be sent (the writer's publish failed; it is logged there) is
 *   bounded by the TTL, the one reason entries expire at all.
 *
 * During a database outage an entry past its TTL (or held while events are down) is still
 * served, stale-if-error, up to `maxStaleMs`: the token it holds is valid until its own expiry
 * (checked by the hand-out), and no write that would change it can be committed while the
 * database is down. While the store reports the outage the database is not even asked (a
 * partitioned server would make each hand-out wait for the connect timeout). SECURITY.md says
 * what this costs when only this process is cut off from a database that others still write.
 *
 * Bounded: at `maxEntries` the oldest entry is evicted, with a second chance for an entry used
 * since it was inserted (CLOCK, so a hit costs one field write instead of reordering a map);
 * entries past the stale horizon are swept from the front on every insert. Never a clear-all on
 * size.
 */
import type { ConnectionRow, Store } from '../storage/store.js'
import { isStoreUnavailable } from '../storage/unavailable.js'

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
  /** How long past its TTL an entry may still be served while the database is unavailable; ms. */
  maxStaleMs?: number
}

export class ConnectionCache {
  #byKey = new Map<string, Entry>()
  #handOuts = new WeakMap<ConnectionRow, { token: string; answer?: string }>()
  #keyById = new Map<string, string>()
  #epoch = 0
  #live: boolean
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #maxStaleMs: number
  readonly #store: Store
  readonly #unsubscribe: () => void

  constructor(store: Store, options: ConnectionCacheOptions = {}) {
    this.#store = store
    this.#ttlMs = options.ttlMs ?? 2000
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#maxStaleMs = options.maxStaleMs ?? 15 * 60_000
    this.#live = store.eventsLive
    this.#unsubscribe = store.subscribe((e) => {
      if (e.channel === 'connection') this.drop(e.id)
      else if (e.channel === 'events') {
        // Down: keep the entries (only an outage may serve them, see above). Back: events may
        // have been missed meanwhile, so nothing held is known to be current.
        this.#live = e.live
        if (e.live) this.clear()
      }
    })
  }

  /** Reads that went to the database (a miss of `get`; `peek` counts nothing: the hot path). */
  misses = 0

  /** Entries held (expired ones not yet swept included); for tests and metrics. */
  get size(): number {
    return this.#byKey.size
  }

  /** The cached row, if fresh and kept exact by live events; no I/O. */
  peek(userId: string, providerId: string): ConnectionRow | undefined {
    const hit = this.#byKey.get(`${providerId}\u0000${userId}`)
    if (hit === undefined || hit.until <= Date.now() || !this.#live) return undefined
    hit.used = true
    return hit.row
  }

  async get(userId: string, providerId: string): Promise<ConnectionRow | undefined> {
    const cached = this.peek(userId, providerId)
    if (cached) return cached
    const key = `${providerId}\u0000${userId}`
    const hit = this.#byKey.get(key)
    const stale = hit && hit.until + this.#maxStaleMs > Date.now() ? hit.row : undefined
    if (stale && this.#store.unavailable) return stale
    this.misses++
    const epoch = this.#epoch
    let row: ConnectionRow | undefined
    try {
      row = await this.#store.getConnection(userId, providerId)
    } catch (err) {
      if (stale && isStoreUnavailable(err)) return stale
      throw err
    }
    if (epoch !== this.#epoch) return row
    if (row && this.#live) this.#insert(key, row)
    // Events are down but the database answered: what was held is not known to be current.
    else if (hit) this.#remove(hit)
    return row
  }

  #insert(key: string, row: ConnectionRow): void {
    const now = Date.now()
    const old = this.#byKey.get(key)
    if (old) this.#remove(old)
    // Same TTL for all, so insertion order is (nearly) expiry order: entries past the stale
    // horizon sit in front.
    for (const e of this.#byKey.values()) {
      if (e.until + this.#maxStaleMs > now) break
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
    memo.answer ??= build()
    return memo.answer
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
