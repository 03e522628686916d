/**
 * The connection cache never serves a stale token or a stale revocation: it is bounded without
 * ever clearing its hot entries, sweeps expired ones, does not re-insert a row read before a
 * write, and across processes on PostgreSQL serves nothing from memory while events may be lost.
 * Real stores: SQLite in memory, and two store instances (two processes) on PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ApiKeys } from '../../src/broker/api-keys.js'
import { ConnectionCache } from '../../src/broker/connection-cache.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'
import { PostgresEventBridge } from '../../src/storage/postgres-events.js'
import { createTestDatabase, describePostgres, type TestDatabase } from '../helpers/postgres.js'
import { seedConnection, within } from '../storage/store.conformance.js'

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('ConnectionCache (SQLite)', () => {
  let store: KyselyStore
  let cache: ConnectionCache | undefined
  beforeAll(async () => {
    store = openStore({ url: ':memory:' })
    await store.migrate()
  })
  afterEach(() => cache?.close())
  afterAll(async () => {
    await store.close()
  })

  it('is bounded and keeps a hot entry while evicting cold ones (no clear-all)', async () => {
    const hot = await seedConnection(store, { user_id: 'hot', provider_id: 'bounded' })
    const cold = []
    for (let i = 0; i < 300; i++) cold.push(await seedConnection(store, { user_id: `cold-${i}`, provider_id: 'bounded' }))
    cache = new ConnectionCache(store, { ttlMs: 60_000, maxEntries: 100 })
    expect(await cache.get('hot', 'bounded')).toEqual(hot)
    for (const c of cold) {
      expect(await cache.get(c.user_id, 'bounded')).toEqual(c)
      expect(cache.peek('hot', 'bounded')).toEqual(hot)
      expect(cache.size).toBeLessThanOrEqual(100)
    }
    // The most recent cold entries are still there, the oldest were evicted.
    expect(cache.peek('cold-299', 'bounded')).toBeDefined()
    expect(cache.peek('cold-0', 'bounded')).toBeUndefined()
  })

  it('sweeps expired entries instead of keeping them until the cache is full', async () => {
    for (let i = 0; i < 20; i++) await seedConnection(store, { user_id: `exp-${i}`, provider_id: 'expiry' })
    // maxStaleMs 0: no outage fallback, so an entry is dead as soon as it expires.
    cache = new ConnectionCache(store, { ttlMs: 30, maxEntries: 1000, maxStaleMs: 0 })
    for (let i = 0; i < 19; i++) await cache.get(`exp-${i}`, 'expiry')
    expect(cache.size).toBe(19)
    await pause(60)
    expect(cache.peek('exp-0', 'expiry')).toBeUndefined()
    await cache.get('exp-19', 'expiry')
    expect(cache.size).toBe(1)
  })

  it('drops a revoked connection at once and does not re-insert a row read before the write', async () => {
    const c = await seedConnection(store, { user_id: 'racer', provider_id: 'race' })
    cache = new ConnectionCache(store, { ttlMs: 60_000 })
    expect((await cache.get('racer', 'race'))?.status).toBe('active')
    // A read that starts before the revocation and finishes after it.
    const racing = cache.get('racer', 'race')
    await store.updateConnection(c.id, { status: 'revoked' })
    await racing
    expect(cache.peek('racer', 'race')?.status ?? 'not cached').not.toBe('active')
    expect((await cache.get('racer', 'race'))?.status).toBe('revoked')
    await store.deleteConnection(c.id)
    expect(cache.peek('racer', 'race')).toBeUndefined()
    expect(await cache.get('racer', 'race')).toBeUndefined()
  })
})

describePostgres('ConnectionCache across processes (PostgreSQL)', () => {
  let db: TestDatabase
  const stores: KyselyStore[] = []
  const caches: ConnectionCache[] = []
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterEach(async () => {
    for (const c of caches.splice(0)) c.close()
    await Promise.all(stores.splice(0).map((s) => s.close()))
  })
  afterAll(async () => {
    await db?.drop()
  })

  async function open(): Promise<KyselyStore> {
    const store = openStore({ url: db.url })
    await store.migrate()
    stores.push(store)
    return store
  }
  /** Resolves once `store` has heard of a write to this connection. */
  function heard(store: KyselyStore, id: string): Promise<void> {
    return new Promise((resolve) => {
      const off = store.subscribe((e) => {
        if (e.channel === 'connection' && e.id === id) {
          off()
          resolve()
        }
      })
    })
  }

  it("drops another process's revocation as soon as its event arrives", async () => {
    const [a, b] = await Promise.all([open(), open()])
    const c = await seedConnection(a, { user_id: 'pg-revoke', provider_id: 'p' })
    const cache = new ConnectionCache(b, { ttlMs: 60_000 })
    caches.push(cache)
    expect((await cache.get('pg-revoke', 'p'))?.status).toBe('active')
    const arrived = heard(b, c.id)
    await a.updateConnection(c.id, { status: 'revoked' })
    await within(arrived, 5000, 'the revocation event on the other process')
    expect(cache.peek('pg-revoke', 'p')).toBeUndefined()
    expect((await cache.get('pg-revoke', 'p'))?.status).toBe('revoked')
  })

  it('serves nothing from memory while its event connection is down, and drops everything when it is back', async () => {
    const [a, b] = await Promise.all([open(), open()])
    const c = await seedConnection(a, { user_id: 'pg-lost', provider_id: 'p' })
    const cache = new ConnectionCache(b, { ttlMs: 60_000 })
    caches.push(cache)
    expect((await cache.get('pg-lost', 'p'))?.status).toBe('active')
    const bridge = b.eventBridge as PostgresEventBridge
    expect(bridge).toBeInstanceOf(PostgresEventBridge)

    bridge.killListener()
    expect(b.eventsLive).toBe(false)
    expect(cache.peek('pg-lost', 'p')).toBeUndefined()
    // Revoked while the other process cannot hear it: its NOTIFY is lost.
    await a.updateConnection(c.id, { status: 'revoked' })
    expect((await cache.get('pg-lost', 'p'))?.status).toBe('revoked')
    if (!b.eventsLive) expect(cache.size).toBe(0)

    await vi.waitFor(() => expect(b.eventsLive).toBe(true), { timeout: 10_000, interval: 10 })
    expect((await cache.get('pg-lost', 'p'))?.status).toBe('revoked')
    await a.updateConnection(c.id, { status: 'active', access_token_enc: 'enc:after-reconnect' })
    await vi.waitFor(async () => expect((await cache.get('pg-lost', 'p'))?.access_token_enc).toBe('enc:after-reconnect'), {
      timeout: 5000,
      interval: 10,
    })
  })

  it('verifies API keys against the database while its event connection is down (a revocation elsewhere is unheard)', async () => {
    const [a, b] = await Promise.all([open(), open()])
    const onA = new ApiKeys(a)
    const onB = new ApiKeys(b)
    try {
      const { key, row } = await onA.create({ name: 'lost-notify', role: 'runtime' })
      expect(await onB.verify(key)).toMatchObject({ id: row.id })
      expect(onB.cached(key)).toMatchObject({ id: row.id })
      ;(b.eventBridge as PostgresEventBridge).killListener()
      expect(b.eventsLive).toBe(false)
      // Revoked on the other process while this one cannot hear it: its NOTIFY is lost.
      await onA.revoke(row.id)
      expect(onB.cached(key)).toBeUndefined()
      await expect(onB.verify(key)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
    } finally {
      onA.close()
      onB.close()
    }
  })

  it('never serves an older token once the write was heard, under concurrent reads (20 rotations)', async () => {
    const [a, b] = await Promise.all([open(), open()])
    const c = await seedConnection(a, { user_id: 'pg-rotate', provider_id: 'p' })
    // The seed's own notification may still be on its way to b, and `heard` below would take it
    // for rotation 0's. a's notifications arrive in order: once a marker sent after it is heard,
    // the seed's has been too.
    const drained = heard(b, 'marker')
    await a.publish({ channel: 'connection', id: 'marker' })
    await within(drained, 5000, 'the marker on the other process')
    const cache = new ConnectionCache(b, { ttlMs: 60_000 })
    caches.push(cache)
    let stop = false
    // Readers keep (re-)filling the cache while the other process writes.
    const readers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        await cache.get('pg-rotate', 'p')
        // A hit resolves without I/O: yield so the loop does not starve the event loop.
        await new Promise((resolve) => setImmediate(resolve))
      }
    })
    try {
      for (let i = 0; i < 20; i++) {
        const token = `enc:rotation-${i}`
        const arrived = heard(b, c.id)
        await a.updateConnection(c.id, { access_token_enc: token })
        await within(arrived, 5000, `rotation ${i} on the other process`)
        for (let k = 0; k < 5; k++) {
          expect((await cache.get('pg-rotate', 'p'))?.access_token_enc).toBe(token)
          await pause(1)
        }
      }
    } finally {
      stop = true
      await Promise.all(readers)
    }
  })
})
