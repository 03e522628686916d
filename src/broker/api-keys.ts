/**
 * @module broker/api-keys
 * App API keys: created (printed once), listed by id, revoked, with a role and an optional
 * expiry. Verification caches a positive result for a few seconds so the hot path does not
 * hash and query on every call; revocation clears the cache on every process at once
 * (a store event, which travels over LISTEN/NOTIFY on PostgreSQL).
 */
import { generateApiKey, parseApiKey, verifySecret } from '../crypto/api-keys.js'
import { LatchkeyError } from '../errors.js'
import type { ApiKeyRow, Store } from '../storage/store.js'
import { isStoreUnavailable } from '../storage/unavailable.js'

export type ApiKeyRole = 'admin' | 'runtime'

export interface VerifiedKey {
  id: string
  role: ApiKeyRole
}

const CACHE_MS = 5_000
/** During a database outage a key verified within this long is still admitted (stale-if-error). */
const STALE_MS = 15 * 60_000

const rawKey = (header: string) => (header.startsWith('Bearer ') || header.startsWith('bearer ') ? header.slice(7).trim() : header.trim())
const TOUCH_MS = 60_000

export class ApiKeys {
  /**
   * Verified keys by the presented key string (lookups are by a 256-bit secret: hash-map timing
   * reveals nothing usable), so the hot path skips SHA-256 and the database. Dropped after a few
   * seconds, on expiry, and at once on revocation (every process, via a store event).
   */
  #cache = new Map<string, { key: VerifiedKey; until: number; expiresAt: number | null }>()
  #presentedById = new Map<string, Set<string>>()
  #touched = new Map<string, number>()
  /** Whether revocations by other processes reach us (the store's `eventsLive`), as in the connection cache. */
  #live: boolean
  readonly #unsubscribe: () => void

  constructor(private readonly store: Store) {
    this.#live = store.eventsLive
    this.#unsubscribe = store.subscribe((e) => {
      if (e.channel === 'api_key') this.#forget(e.id)
      else if (e.channel === 'events') {
        // While events are down a revocation elsewhere would go unheard: verify against the
        // database instead of the cache. Once they are back, some may have been missed.
        this.#live = e.live
        if (e.live) this.#clear()
      }
    })
  }

  async create(input: { name: string; role: ApiKeyRole; expiresAt?: number | null }): Promise<{ key: string; row: ApiKeyRow }> {
    const k = generateApiKey()
    const row: ApiKeyRow = {
      id: k.id,
      name: input.name,
      role: input.role,
      hash: k.hash,
      created_at: Date.now(),
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      last_used_at: null,
    }
    await this.store.insertApiKey(row)
    return { key: k.key, row }
  }

  async revoke(id: string): Promise<boolean> {
    const done = await this.store.revokeApiKey(id, Date.now())
    this.#forget(id)
    await this.store.publish({ channel: 'api_key', id })
    return done
  }

  /** The verified key from the cache, without touching the database; undefined when not cached. */
  cached(header: string | undefined): VerifiedKey | undefined {
    if (!header || !this.#live) return undefined
    const hit = this.#cache.get(rawKey(header))
    const now = Date.now()
    return hit && hit.until > now && (hit.expiresAt === null || hit.expiresAt > now) ? hit.key : undefined
  }

  /**
   * Whether this exact key string was verified by this process and not revoked since (its cache
   * entry may have lapsed). Only a valid key can be one: it exempts an app's own key from the
   * failure limit of the address it shares with someone failing.
   */
  seen(header: string | undefined): boolean {
    return header !== undefined && this.#cache.has(rawKey(header))
  }

  /** Accepts `Authorization: <key>` and `Authorization: Bearer <key>` (Arcade's SDKs send the raw key). */
  async verify(header: string | undefined): Promise<VerifiedKey> {
    if (!header) throw new LatchkeyError('UNAUTHENTICATED', 'missing API key: send it in the Authorization header')
    const hit = this.cached(header)
    if (hit) return hit
    const raw = rawKey(header)
    const now = Date.now()
    const parsed = parseApiKey(raw)
    if (!parsed) throw new LatchkeyError('UNAUTHENTICATED', 'invalid API key')
    const stale = this.#stale(raw, now)
    // While the store reports an outage, a recently verified key is admitted without asking it.
    if (stale && this.store.unavailable) return stale
    let row: ApiKeyRow | undefined
    try {
      row = await this.store.getApiKey(parsed.id)
    } catch (err) {
      if (stale && isStoreUnavailable(err)) return stale
      throw err
    }
    if (!row || !verifySecret(parsed.secret, row.hash)) throw new LatchkeyError('UNAUTHENTICATED', 'invalid API key')
    if (row.revoked_at !== null) throw new LatchkeyError('UNAUTHENTICATED', 'this API key was revoked')
    if (row.expires_at !== null && row.expires_at <= now) throw new LatchkeyError('UNAUTHENTICATED', 'this API key has expired')
    const key: VerifiedKey = { id: row.id, role: row.role }
    if (this.#cache.size > 10_000) this.#clear()
    this.#cache.set(raw, { key, until: now + CACHE_MS, expiresAt: row.expires_at })
    let presented = this.#presentedById.get(row.id)
    if (!presented) {
      presented = new Set()
      this.#presentedById.set(row.id, presented)
    }
    presented.add(raw)
    if ((this.#touched.get(row.id) ?? 0) + TOUCH_MS < now) {
      this.#touched.set(row.id, now)
      void this.store.touchApiKey(row.id, now).catch(() => {})
    }
    return key
  }

  /**
   * A key verified before the database went down, while the outage lasts (bounded by STALE_MS):
   * revocation needs the database too, so none can have happened since except on a process
   * whose notification this one missed, which the bound limits.
   */
  #stale(raw: string, now: number): VerifiedKey | undefined {
    const hit = this.#cache.get(raw)
    return hit && hit.until + STALE_MS > now && (hit.expiresAt === null || hit.expiresAt > now) ? hit.key : undefined
  }

  #forget(id: string): void {
    for (const raw of this.#presentedById.get(id) ?? []) this.#cache.delete(raw)
    this.#presentedById.delete(id)
  }

  #clear(): void {
    this.#cache.clear()
    this.#presentedById.clear()
  }

  close(): void {
    this.#unsubscribe()
    this.#clear()
  }
}
