/**
 * Last-use times of connections: recorded in memory per hand-out, written in batches, kept
 * through a database outage, bounded. Real SQLite store.
 */
import { sql } from 'kysely'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LastUse } from '../../src/broker/last-use.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'
import { seedConnection, T0 } from '../storage/store.conformance.js'

describe('LastUse', () => {
  let store: KyselyStore
  const log = pino({ level: 'silent' })
  beforeEach(async () => {
    store = openStore({ url: ':memory:' })
    await store.migrate()
  })
  afterEach(async () => {
    await store.close()
  })
  const lastUsed = async (id: string) => (await store.getConnectionById(id))?.last_used_at

  it('writes nothing per hand-out, then the latest time of each connection in one flush', async () => {
    const a = await seedConnection(store, { user_id: 'a' })
    const b = await seedConnection(store, { user_id: 'b' })
    const uses = new LastUse(store, log, 60_000)
    for (let i = 1; i <= 100; i++) uses.record(a.id, T0 + i)
    uses.record(b.id, T0 + 7)
    expect(await lastUsed(a.id)).toBeNull()
    await uses.flush()
    expect(await lastUsed(a.id)).toBe(T0 + 100)
    expect(await lastUsed(b.id)).toBe(T0 + 7)
    await uses.close()
  })

  it('flushes on its own after the interval', async () => {
    const a = await seedConnection(store)
    const uses = new LastUse(store, log, 20)
    uses.record(a.id, T0 + 1)
    await expect.poll(() => lastUsed(a.id), { timeout: 2000 }).toBe(T0 + 1)
    await uses.close()
  })

  it('keeps the times through an outage and writes them (with newer ones) once the database answers', async () => {
    const a = await seedConnection(store, { user_id: 'a' })
    const b = await seedConnection(store, { user_id: 'b' })
    const uses = new LastUse(store, log, 60_000)
    uses.record(a.id, T0 + 1)
    uses.record(b.id, T0 + 2)
    // A real failure: the table is not there while the flush runs.
    await sql`alter table connections rename to connections_away`.execute(store.db)
    await uses.flush()
    uses.record(a.id, T0 + 3)
    await sql`alter table connections_away rename to connections`.execute(store.db)
    expect(await lastUsed(a.id)).toBeNull()
    await uses.flush()
    expect(await lastUsed(a.id)).toBe(T0 + 3)
    expect(await lastUsed(b.id)).toBe(T0 + 2)
    await uses.close()
  })

  it('is bounded: a full map starts a flush and does not grow', async () => {
    const rows = await Promise.all(['a', 'b', 'c'].map((u) => seedConnection(store, { user_id: u })))
    const uses = new LastUse(store, log, 60_000, 2)
    uses.record(rows[0]!.id, T0 + 1)
    uses.record(rows[1]!.id, T0 + 2)
    // Full: this use starts a flush of the two pending ones and is itself dropped.
    uses.record(rows[2]!.id, T0 + 3)
    await expect.poll(() => lastUsed(rows[1]!.id), { timeout: 2000 }).toBe(T0 + 2)
    await uses.close()
    expect(await lastUsed(rows[0]!.id)).toBe(T0 + 1)
    expect(await lastUsed(rows[2]!.id)).toBeNull()
  })
})
