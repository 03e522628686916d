/**
 * The storage conformance suite on real SQLite: in memory (what tests use) and on a file
 * (what a single-node deployment uses), plus the SQLite-only part of the refresh lock: the
 * lease row field, shared by separate store instances (processes) on the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'
import { describeAccountsConformance, itUpgradesTo0010Accounts } from './accounts.conformance.js'
import { describeDashboardSessions, itUpgradesTo0013SessionPrincipal } from './dashboard-sessions.conformance.js'
import {
  describeStoreConformance,
  flowRow,
  itUpgradesFrom0001,
  itUpgradesTo0012RequestedScopes,
  latch,
  seedConnection,
  T0,
  within,
} from './store.conformance.js'

async function openMigrated(url: string): Promise<KyselyStore> {
  const store = openStore({ url })
  await store.migrate()
  return store
}

describeStoreConformance('SQLite store (:memory:)', () => openMigrated(':memory:'))
describeAccountsConformance('SQLite store: several accounts per user and provider', () => openMigrated(':memory:'))
describeDashboardSessions('SQLite store: dashboard sessions and their principal', () => openMigrated(':memory:'))

const dir = mkdtempSync(join(tmpdir(), 'latchkey-sqlite-'))
let files = 0
describeStoreConformance(
  'SQLite store (file)',
  // A fresh file per test; the nested path checks that missing directories are created.
  () => openMigrated(join(dir, `t${++files}`, 'latchkey.db')),
  async () => rmSync(dir, { recursive: true, force: true }),
)

describe('SQLite store: delete under the lease', () => {
  it('deletes only the row as it was read: a grant written meanwhile (the lease does not block it) survives', async () => {
    const store = await openMigrated(':memory:')
    try {
      const c = await seedConnection(store)
      const outcome = await store.withRefreshLock(c.id, async ({ delete: remove }) => {
        await store.updateConnection(c.id, { access_token_enc: 'enc:new-grant' })
        return remove()
      })
      expect(outcome).toBe(false)
      expect((await store.getConnectionById(c.id))?.access_token_enc).toBe('enc:new-grant')
      expect(await store.withRefreshLock(c.id, ({ delete: remove }) => remove())).toBe(true)
      expect(await store.getConnectionById(c.id)).toBeUndefined()
    } finally {
      await store.close()
    }
  })
})

describe("SQLite store: the lease holder's write (prepared statements)", () => {
  const event = (id: string) => ({ id, type: 'connection.refreshed', order_key: 'k', payload: '{}', created_at: T0 })
  const outbox = (store: KyselyStore) => store.db.selectFrom('webhook_events').select('id').orderBy('seq').execute()

  it('writes the tokens, JSON columns and outbox rows together, clears the lease and moves the generation', async () => {
    const store = await openMigrated(':memory:')
    try {
      const c = await seedConnection(store)
      const wrote = await store.withRefreshLock(c.id, ({ update }) =>
        update({ access_token_enc: 'enc:refreshed', scopes: ['a', 'b'], user_info: { plan: 'pro' }, refresh_failures: 0 }, [
          event('msg_1'),
          event('msg_2'),
        ]),
      )
      expect(wrote).toBe(true)
      const after = await store.getConnectionById(c.id)
      expect(after).toMatchObject({
        access_token_enc: 'enc:refreshed',
        scopes: ['a', 'b'],
        user_info: { plan: 'pro' },
        generation: c.generation + 1,
        refresh_lease_owner: null,
        refresh_lease_until: null,
      })
      expect(await outbox(store)).toEqual([{ id: 'msg_1' }, { id: 'msg_2' }])
    } finally {
      await store.close()
    }
  })

  it('commits nothing when an outbox row cannot be written, and releases the lease', async () => {
    const store = await openMigrated(':memory:')
    try {
      const c = await seedConnection(store)
      await store.db
        .insertInto('webhook_events')
        .values({ ...event('msg_taken'), dispatched_at: null })
        .execute()
      await expect(
        store.withRefreshLock(c.id, ({ update }) => update({ access_token_enc: 'enc:lost' }, [event('msg_new'), event('msg_taken')])),
      ).rejects.toThrow()
      const after = await store.getConnectionById(c.id)
      expect(after).toMatchObject({ access_token_enc: c.access_token_enc, generation: c.generation, refresh_lease_owner: null })
      expect(await outbox(store)).toEqual([{ id: 'msg_taken' }])
    } finally {
      await store.close()
    }
  })

  it('writes nothing when a grant landed meanwhile, and waits for a transaction Kysely holds', async () => {
    const store = await openMigrated(':memory:')
    try {
      const c = await seedConnection(store)
      const lost = await store.withRefreshLock(c.id, async ({ update }) => {
        await store.updateConnection(c.id, { access_token_enc: 'enc:new-grant' })
        return update({ access_token_enc: 'enc:stale-refresh' }, [event('msg_stale')])
      })
      expect(lost).toBe(false)
      expect((await store.getConnectionById(c.id))?.access_token_enc).toBe('enc:new-grant')
      expect(await outbox(store)).toEqual([])
      // The holder writes while Kysely holds the connection in a transaction: it goes through Kysely, after it.
      const inside = latch()
      const finish = latch()
      const tx = store.db.transaction().execute(async (t) => {
        await t
          .insertInto('webhook_events')
          .values({ ...event('msg_tx'), dispatched_at: null })
          .execute()
        inside.resolve()
        await finish.promise
      })
      await inside.promise
      const refresh = store.withRefreshLock(c.id, ({ update }) => update({ access_token_enc: 'enc:after-tx' }, [event('msg_refresh')]))
      setTimeout(() => finish.resolve(), 20)
      await within(Promise.all([tx, refresh]), 5000, 'the refresh write after the transaction')
      expect((await store.getConnectionById(c.id))?.access_token_enc).toBe('enc:after-tx')
      expect(await outbox(store)).toEqual([{ id: 'msg_tx' }, { id: 'msg_refresh' }])
    } finally {
      await store.close()
    }
  })
})

describe('SQLite store: upgrades', () => {
  itUpgradesFrom0001(async () => ({ store: openStore({ url: ':memory:' }), drop: async () => {} }))
  itUpgradesTo0010Accounts(async () => ({ store: openStore({ url: ':memory:' }), drop: async () => {} }))
  itUpgradesTo0012RequestedScopes(async () => ({ store: openStore({ url: ':memory:' }), drop: async () => {} }))
  itUpgradesTo0013SessionPrincipal(async () => ({ store: openStore({ url: ':memory:' }), drop: async () => {} }))
})

describe('SQLite store: two instances on one file', () => {
  const shared = mkdtempSync(join(tmpdir(), 'latchkey-sqlite-shared-'))
  const stores: KyselyStore[] = []
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
  })
  afterAll(() => rmSync(shared, { recursive: true, force: true }))

  async function pair(): Promise<[KyselyStore, KyselyStore]> {
    const file = join(shared, `db${stores.length}.db`)
    const a = await openMigrated(file)
    const b = await openMigrated(file) // migrations already applied: a no-op
    stores.push(a, b)
    return [a, b]
  }

  it('holds the refresh lease across instances and hands the next holder the fresh row', async () => {
    const [a, b] = await pair()
    const c = await seedConnection(a)
    const log: string[] = []
    const aInside = latch()
    const releaseA = latch()
    const first = a.withRefreshLock(c.id, async ({ update }) => {
      log.push('enter:a')
      aInside.resolve()
      await releaseA.promise
      await update({ access_token_enc: 'enc:by-a' })
      log.push('exit:a')
    })
    await aInside.promise
    // The lease is visible to the other instance while held.
    const held = await b.getConnectionById(c.id)
    expect(held?.refresh_lease_owner).toEqual(expect.any(String))
    expect(held?.refresh_lease_until).toBeGreaterThan(Date.now())
    const second = b.withRefreshLock(c.id, async ({ current }) => {
      log.push('enter:b')
      log.push('exit:b')
      return current?.access_token_enc
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(log).toEqual(['enter:a'])
    releaseA.resolve()
    const [, seen] = await within(Promise.all([first, second]), 5000, 'second instance taking the lease')
    expect(log).toEqual(['enter:a', 'exit:a', 'enter:b', 'exit:b'])
    expect(seen).toBe('enc:by-a')
    const after = await a.getConnectionById(c.id)
    expect(after?.refresh_lease_owner).toBeNull()
    expect(after?.refresh_lease_until).toBeNull()
  })

  it('shares one open flow between instances', async () => {
    const [a, b] = await pair()
    const candidates = Array.from({ length: 20 }, () => flowRow({ user_id: 'two-instances' }))
    const results = await Promise.all(candidates.map((f, i) => (i % 2 ? a : b).createOrReuseFlow(f, T0)))
    expect(new Set(results.map((r) => r.flow.id)).size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
  })
})
