/**
 * The audit backlog's bound, on a real SQLite store whose writes fail for real (`PRAGMA
 * query_only`: every write answers SQLITE_READONLY, classified as the store being unavailable).
 * Nothing is lost while the backlog has room; when it is full a token hand-out needing a new
 * entry is refused (fail closed), one joining an open aggregate is still counted, other entries
 * are dropped and counted; once writes work again everything kept is stored.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog } from '../../src/broker/audit.js'
import { LatchkeyError } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { createMetrics } from '../../src/metrics.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'

describe('audit backlog while the database refuses writes', () => {
  let store: KyselyStore

  beforeEach(async () => {
    store = openStore({ url: ':memory:' })
    await store.migrate()
  })
  afterEach(() => store.close())

  it('keeps entries, refuses hand-outs when full, writes everything once the database is back', async () => {
    const metrics = createMetrics()
    const audit = new AuditLog(store, createLogger('silent'), { flushMs: 10_000, maxBacklog: 3, metrics })
    await sql`pragma query_only = 1`.execute(store.db)

    for (const c of ['c1', 'c2', 'c3'])
      audit.record({ actor: 'k', action: 'token.issued', user_id: 'u', provider_id: 'p', connection_id: c })
    await audit.flush() // fails: kept
    expect(audit.pending).toBe(3)

    // Full: a new hand-out is refused, with the 503 code the HTTP layer renders.
    let refused: unknown
    try {
      audit.record({ actor: 'k', action: 'token.issued', user_id: 'u', provider_id: 'p', connection_id: 'c4' })
    } catch (err) {
      refused = err
    }
    expect(refused).toBeInstanceOf(LatchkeyError)
    expect((refused as LatchkeyError).code).toBe('UNAVAILABLE')
    // Other entries are dropped and counted, not kept beyond the bound.
    audit.record({ actor: null, action: 'flow.failed', user_id: 'u', provider_id: 'p', detail: { flow_id: 'f' } })
    expect(audit.pending).toBe(3)
    expect((await metrics.auditRefused.get()).values[0]?.value).toBe(1)
    expect((await metrics.auditDropped.get()).values.find((v) => v.labels['action'] === 'flow.failed')?.value).toBe(1)

    await sql`pragma query_only = 0`.execute(store.db)
    await audit.flush()
    expect(audit.pending).toBe(0)
    const stored = await store.listAudit({}, 100, 0)
    expect(stored.items.map((e) => e.connection_id).sort()).toEqual(['c1', 'c2', 'c3'])
    // Room again: hand-outs are recorded.
    audit.record({ actor: 'k', action: 'token.issued', user_id: 'u', provider_id: 'p', connection_id: 'c4' })
    await audit.flush()
    expect((await store.listAudit({}, 100, 0)).total).toBe(4)
  })
})
