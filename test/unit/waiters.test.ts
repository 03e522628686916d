/**
 * Long-poll waiters share one timer for every deadline (no timer per waiter): each wait still
 * ends at its own deadline, in deadline order whatever order they were parked in, is woken by
 * its flow's store event only, and ends on cancel. A real store (SQLite in memory) sends the
 * events; fake timers stand in for the clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FlowWaiters } from '../../src/broker/waiters.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'

describe('FlowWaiters', () => {
  let store: KyselyStore
  let waiters: FlowWaiters

  beforeEach(async () => {
    store = openStore({ url: ':memory:' })
    await store.migrate()
    waiters = new FlowWaiters(store)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  })
  afterEach(async () => {
    vi.useRealTimers()
    waiters.close()
    await store.close()
  })

  it('ends each wait at its own deadline, in deadline order, parked in any order', async () => {
    const ended: string[] = []
    const park = (id: string, ms: number) => void waiters.enter(id, ms).changed.then((c) => ended.push(`${id}:${c}`))
    park('a', 5000)
    park('b', 1000)
    park('c', 3000)
    park('d', 5000)
    expect(waiters.size).toBe(4)
    await vi.advanceTimersByTimeAsync(999)
    expect(ended).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(ended).toEqual(['b:false'])
    await vi.advanceTimersByTimeAsync(2000)
    expect(ended).toEqual(['b:false', 'c:false'])
    await vi.advanceTimersByTimeAsync(2000)
    expect(ended).toEqual(['b:false', 'c:false', 'a:false', 'd:false'])
    expect(waiters.size).toBe(0)
  })

  it("wakes every waiter of the flow that changed, and only those; a woken or cancelled wait doesn't end again", async () => {
    const one = waiters.enter('flow-1', 10_000)
    const two = waiters.enter('flow-1', 10_000)
    const other = waiters.enter('flow-2', 10_000)
    const cancelled = waiters.enter('flow-3', 10_000)
    cancelled.cancel()
    expect(await cancelled.changed).toBe(false)
    await store.publish({ channel: 'flow', id: 'flow-1' })
    expect(await one.changed).toBe(true)
    expect(await two.changed).toBe(true)
    expect(waiters.size).toBe(1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(await other.changed).toBe(false)
    one.cancel()
    expect(waiters.size).toBe(0)
  })

  it('a wait after close ends at once; close ends the waiting ones', async () => {
    const parked = waiters.enter('flow-1', 10_000)
    waiters.close()
    expect(await parked.changed).toBe(false)
    expect(await waiters.enter('flow-2', 10_000).changed).toBe(false)
    expect(waiters.size).toBe(0)
  })
})
