/**
 * The storage conformance suite: every `Store` method's contract, run against each real
 * database (`sqlite.test.ts`, `postgres.test.ts`). A dialect passes only if it behaves exactly
 * like the others, so the broker above never needs to know which one it runs on.
 *
 * Usage: `describeStoreConformance(name, open, cleanup?)` where `open()` returns a migrated
 * store on an EMPTY database; it is called before every test and the suite closes the store
 * after the test. `cleanup` runs once after the suite.
 */

import { sql } from 'kysely'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashState } from '../../src/crypto/state-hash.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { KyselyMcpStore } from '../../src/storage/mcp-registrations.js'
import { migrateTo } from '../../src/storage/migrations.js'
import {
  type ApiKeyRow,
  type AuditEntry,
  type ConnectionRow,
  type FlowRow,
  OpenFlowLimitError,
  type ProviderRow,
  type StoreEvent,
} from '../../src/storage/store.js'

/** A fixed point in time for stored timestamps; tests never depend on the wall clock for data. */
export const T0 = 1_700_000_000_000
const MINUTE = 60_000

let seq = 0
/** Ids that sort the same way in every collation (fixed width, lowercase). */
function nextId(prefix: string): string {
  return `${prefix}-${String(++seq).padStart(6, '0')}`
}

export function apiKeyRow(over: Partial<ApiKeyRow> = {}): ApiKeyRow {
  const id = over.id ?? nextId('key')
  return {
    id,
    name: `name ${id}`,
    role: 'runtime',
    hash: `hash-${id}`,
    created_at: T0,
    expires_at: null,
    revoked_at: null,
    last_used_at: null,
    ...over,
  }
}

export function flowRow(over: Partial<FlowRow> = {}): FlowRow {
  const id = over.id ?? nextId('flow')
  return {
    id,
    state_hash: `state-hash-${id}`,
    state_enc: `enc:state:${id}`,
    user_id: 'alice',
    provider_id: 'github',
    scopes: ['read:user', 'repo'],
    requested_scopes: ['repo'],
    scope_key: 'repo',
    code_verifier_enc: `enc:verifier:${id}`,
    nonce: `nonce-${id}`,
    redirect_uri: 'http://127.0.0.1:9000/oauth/callback',
    next_uri: null,
    status: 'pending',
    error: null,
    error_description: null,
    connection_id: null,
    opened_at: null,
    browser_binding: null,
    callback_at: null,
    grant_enc: null,
    created_at: T0,
    expires_at: T0 + 10 * MINUTE,
    completed_at: null,
    account_hint: null,
    connection_target: null,
    ...over,
  }
}

export type NewConnection = Omit<ConnectionRow, 'generation'>

export function connectionRow(over: Partial<NewConnection> = {}): NewConnection {
  const id = over.id ?? nextId('conn')
  const expiresAt = over.expires_at === undefined ? T0 + 60 * MINUTE : over.expires_at
  return {
    id,
    user_id: 'alice',
    provider_id: 'github',
    status: 'active',
    scopes: ['read:user', 'repo'],
    requested_scopes: ['read:user', 'repo'],
    access_token_enc: `enc:access:${id}`,
    refresh_token_enc: `enc:refresh:${id}`,
    token_type: 'bearer',
    expires_at: expiresAt,
    // An hour-long token.
    token_issued_at: expiresAt === null ? T0 : expiresAt - 60 * MINUTE,
    refresh_token_expires_at: T0 + 30 * 24 * 60 * MINUTE,
    account_id: `acct-${id}`,
    account_label: `label ${id}`,
    user_info: { sub: `sub-${id}`, nested: { ok: true, n: 1 } },
    created_at: T0,
    updated_at: T0,
    last_used_at: null,
    last_refresh_at: null,
    last_refresh_error: null,
    refresh_failures: 0,
    refresh_cooldown_until: null,
    refresh_lease_owner: null,
    refresh_lease_until: null,
    is_default: 1,
    ...over,
  }
}

export function providerRow(over: Partial<ProviderRow> = {}): ProviderRow {
  const id = over.id ?? nextId('prov')
  return {
    id,
    config: JSON.stringify({ id, type: 'oauth2' }),
    client_secret_enc: `enc:secret:${id}`,
    created_at: T0,
    updated_at: T0,
    ...over,
  }
}

export function auditEntry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: over.id ?? nextId('audit'),
    at: T0,
    actor: 'key-admin',
    action: 'connection.created',
    user_id: 'alice',
    provider_id: 'github',
    connection_id: null,
    detail: { via: 'test' },
    ...over,
  }
}

/** Creates a connection the way the broker does: through a flow that completes. */
export async function seedConnection(store: KyselyStore, over: Partial<NewConnection> = {}): Promise<ConnectionRow> {
  const c = connectionRow(over)
  const { flow } = await store.createOrReuseFlow(flowRow({ user_id: c.user_id, provider_id: c.provider_id, scope_key: `seed ${c.id}` }), T0)
  return store.completeFlowWithConnection(flow.id, c, (existing) =>
    existing ? { ...c, id: existing.id, created_at: existing.created_at } : c,
  )
}

/** A promise with its resolver, for deterministic orderings between concurrent tasks. */
export function latch<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Rejects with a clear message when `p` takes longer than `ms` (turns a hang into a failure). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Asserts a log of `enter:<n>` / `exit:<n>` never has two holders inside at once. */
function expectSerialized(log: string[], holders: number): void {
  expect(log).toHaveLength(holders * 2)
  for (let i = 0; i < log.length; i += 2) {
    const enter = log[i]!
    const exit = log[i + 1]!
    expect(enter).toMatch(/^enter:/)
    expect(exit).toBe(enter.replace('enter:', 'exit:'))
  }
}

/** A fresh store for each test of the enclosing describe, closed after it: `use` receives it. */
export function eachFreshStore(open: () => Promise<KyselyStore>, use: (store: KyselyStore) => void): void {
  let store: KyselyStore | undefined
  beforeEach(async () => {
    store = await open()
    use(store)
  })
  afterEach(async () => {
    await store?.close()
  })
}

export function describeStoreConformance(name: string, open: () => Promise<KyselyStore>, cleanup?: () => Promise<void>): void {
  describe(name, () => {
    let store!: KyselyStore
    eachFreshStore(open, (s) => {
      store = s
    })
    if (cleanup) afterAll(cleanup)

    describe('lifecycle', () => {
      it('answers ping and re-running migrations is a no-op', async () => {
        expect(['sqlite', 'postgres']).toContain(store.dialect)
        await store.ping()
        expect(await store.migrate()).toEqual([])
      })
    })

    // ------------------------------------------------------------------ API keys

    describe('API keys', () => {
      it('stores a key and reads it back exactly', async () => {
        const row = apiKeyRow({ role: 'admin', expires_at: T0 + 1000, last_used_at: T0 + 5 })
        await store.insertApiKey(row)
        expect(await store.getApiKey(row.id)).toEqual(row)
        expect(await store.getApiKey('key-missing')).toBeUndefined()
      })

      it('rejects a duplicate id', async () => {
        const row = apiKeyRow()
        await store.insertApiKey(row)
        await expect(store.insertApiKey({ ...row, name: 'other' })).rejects.toThrow()
        expect((await store.getApiKey(row.id))?.name).toBe(row.name)
      })

      it('lists every key (revoked ones too) by creation time, then id', async () => {
        const late = apiKeyRow({ created_at: T0 + 20 })
        const early = apiKeyRow({ created_at: T0 + 10 })
        const tieB = apiKeyRow({ id: 'key-tie-b', created_at: T0 + 15 })
        const tieA = apiKeyRow({ id: 'key-tie-a', created_at: T0 + 15, revoked_at: T0 })
        for (const k of [late, early, tieB, tieA]) await store.insertApiKey(k)
        expect((await store.listApiKeys()).map((k) => k.id)).toEqual([early.id, tieA.id, tieB.id, late.id])
        expect(await store.listApiKeys()).toContainEqual(tieA)
      })

      it('revokes a key once', async () => {
        const row = apiKeyRow()
        await store.insertApiKey(row)
        expect(await store.revokeApiKey(row.id, T0 + 1)).toBe(true)
        expect(await store.revokeApiKey(row.id, T0 + 2)).toBe(false)
        expect((await store.getApiKey(row.id))?.revoked_at).toBe(T0 + 1)
        expect(await store.revokeApiKey('key-missing', T0)).toBe(false)
      })

      it('records the last use', async () => {
        const row = apiKeyRow()
        await store.insertApiKey(row)
        await store.touchApiKey(row.id, T0 + 42)
        expect((await store.getApiKey(row.id))?.last_used_at).toBe(T0 + 42)
        await store.touchApiKey(row.id, T0 + 43)
        expect((await store.getApiKey(row.id))?.last_used_at).toBe(T0 + 43)
        await expect(store.touchApiKey('key-missing', T0)).resolves.toBeUndefined()
      })

      it('counts keys that are neither revoked nor expired', async () => {
        const now = T0 + 1000
        expect(await store.countUsableApiKeys(now)).toBe(0)
        await store.insertApiKey(apiKeyRow()) // no expiry: usable
        await store.insertApiKey(apiKeyRow({ expires_at: now + 1 })) // still valid
        await store.insertApiKey(apiKeyRow({ expires_at: now })) // expires exactly now: not usable
        await store.insertApiKey(apiKeyRow({ expires_at: now - 1 })) // expired
        const revoked = apiKeyRow()
        await store.insertApiKey(revoked)
        expect(await store.countUsableApiKeys(now)).toBe(3)
        await store.revokeApiKey(revoked.id, now)
        expect(await store.countUsableApiKeys(now)).toBe(2)
        expect(await store.countUsableApiKeys(now + 1)).toBe(1)
        expect(await store.countUsableApiKeys(now - 1)).toBe(3)
      })
    })

    // ------------------------------------------------------------------ flows

    describe('flows', () => {
      it("creates a flow and reads it back by id and by the state's hash", async () => {
        const row = flowRow({ next_uri: 'https://app.example/next', scopes: ['a', 'b c', 'ü'], requested_scopes: [] })
        const r = await store.createOrReuseFlow(row, T0)
        expect(r).toEqual({ flow: row, created: true })
        expect(await store.getFlow(row.id)).toEqual(row)
        expect(await store.getFlowByStateHash(row.state_hash)).toEqual(row)
        expect(await store.getFlow('flow-missing')).toBeUndefined()
        expect(await store.getFlowByStateHash('state-missing')).toBeUndefined()
      })

      it('reuses an open flow for the same user, provider and scope set', async () => {
        const first = flowRow()
        await store.createOrReuseFlow(first, T0)
        const second = flowRow()
        const r = await store.createOrReuseFlow(second, T0 + MINUTE)
        expect(r.created).toBe(false)
        expect(r.flow).toEqual(first)
        expect(await store.getFlow(second.id)).toBeUndefined()
      })

      it('does not reuse across users, providers or scope sets', async () => {
        const base = flowRow()
        await store.createOrReuseFlow(base, T0)
        for (const over of [{ user_id: 'bob' }, { provider_id: 'google' }, { scope_key: 'repo user' }]) {
          const other = flowRow(over)
          const r = await store.createOrReuseFlow(other, T0)
          expect(r.created, JSON.stringify(over)).toBe(true)
          expect(r.flow.id).toBe(other.id)
        }
      })

      it('returns the same flow to 20 concurrent identical requests', async () => {
        const candidates = Array.from({ length: 20 }, () => flowRow({ user_id: 'concurrent' }))
        const results = await Promise.all(candidates.map((c) => store.createOrReuseFlow(c, T0)))
        const ids = new Set(results.map((r) => r.flow.id))
        expect(ids.size).toBe(1)
        expect(results.filter((r) => r.created)).toHaveLength(1)
        const winner = [...ids][0]!
        expect(candidates.map((c) => c.id)).toContain(winner)
        const stored = await Promise.all(candidates.map((c) => store.getFlow(c.id)))
        expect(stored.filter((f) => f !== undefined).map((f) => f!.id)).toEqual([winner])
      })

      it('replaces an open flow with less than a minute left, marking it failed', async () => {
        const now = T0 + 5 * MINUTE
        const old = flowRow({ expires_at: now + 30_000 })
        await store.createOrReuseFlow(old, T0)
        const fresh = flowRow({ expires_at: now + 10 * MINUTE })
        const r = await store.createOrReuseFlow(fresh, now)
        expect(r).toEqual({ flow: fresh, created: true })
        const replaced = await store.getFlow(old.id)
        expect(replaced?.status).toBe('failed')
        expect(replaced?.error).toBe('expired')
        expect(replaced?.error_description).toEqual(expect.any(String))
        // The replacement is now the open flow.
        expect((await store.createOrReuseFlow(flowRow(), now)).flow.id).toBe(fresh.id)
      })

      it('still reuses an open flow with more than a minute left', async () => {
        const now = T0 + 5 * MINUTE
        const open = flowRow({ expires_at: now + 2 * MINUTE })
        await store.createOrReuseFlow(open, T0)
        const r = await store.createOrReuseFlow(flowRow(), now)
        expect(r.created).toBe(false)
        expect(r.flow.id).toBe(open.id)
        expect((await store.getFlow(open.id))?.status).toBe('pending')
      })

      it('does not reuse a flow that was called back, completed or failed', async () => {
        const calledBack = flowRow()
        await store.createOrReuseFlow(calledBack, T0)
        expect(await store.consumeFlowCallback(calledBack.id, T0 + 1)).toBe(true)
        const afterCallback = flowRow()
        expect((await store.createOrReuseFlow(afterCallback, T0 + 2)).created).toBe(true)

        await store.updateFlow(afterCallback.id, { status: 'failed', error: 'access_denied' })
        const afterFailure = flowRow()
        expect((await store.createOrReuseFlow(afterFailure, T0 + 3)).created).toBe(true)

        await store.updateFlow(afterFailure.id, { status: 'completed', completed_at: T0 + 4 })
        const afterCompletion = flowRow()
        expect((await store.createOrReuseFlow(afterCompletion, T0 + 5)).created).toBe(true)
      })

      it('refuses a new flow once the user has maxOpenPerUser open flows, but still reuses one', async () => {
        const open = ['a', 'b', 'c'].map((scope_key) => flowRow({ user_id: 'capped', scope_key }))
        for (const f of open) expect((await store.createOrReuseFlow(f, T0, 3)).created).toBe(true)
        const fourth = flowRow({ user_id: 'capped', scope_key: 'd' })
        await expect(store.createOrReuseFlow(fourth, T0, 3)).rejects.toBeInstanceOf(OpenFlowLimitError)
        expect(await store.getFlow(fourth.id)).toBeUndefined()
        // An identical request shares its open flow even at the limit; other users are not affected.
        expect((await store.createOrReuseFlow(flowRow({ user_id: 'capped', scope_key: 'b' }), T0, 3)).flow.id).toBe(open[1]!.id)
        expect((await store.createOrReuseFlow(flowRow({ user_id: 'other', scope_key: 'd' }), T0, 3)).created).toBe(true)
        // Finished, called-back and expired flows do not count.
        await store.updateFlow(open[0]!.id, { status: 'failed', error: 'access_denied' })
        expect((await store.createOrReuseFlow(fourth, T0, 3)).created).toBe(true)
        expect(await store.consumeFlowCallback(open[1]!.id, T0 + 1)).toBe(true)
        expect((await store.createOrReuseFlow(flowRow({ user_id: 'capped', scope_key: 'e' }), T0, 3)).created).toBe(true)
        const later = T0 + 10 * MINUTE
        expect(
          (await store.createOrReuseFlow(flowRow({ user_id: 'capped', scope_key: 'f', expires_at: later + 10 * MINUTE }), later, 3))
            .created,
        ).toBe(true)
      })

      it('does not reuse a flow a browser has continued on; that flow keeps working for its browser', async () => {
        const opened = flowRow()
        await store.createOrReuseFlow(opened, T0)
        expect(await store.markFlowOpened(opened.id, 'binding-1', T0 + 1)).toBe(true)
        const next = flowRow()
        const r = await store.createOrReuseFlow(next, T0 + 2)
        expect(r).toMatchObject({ created: true, flow: { id: next.id } })
        // The new, unopened flow is the one identical requests share from now on.
        expect((await store.createOrReuseFlow(flowRow(), T0 + 3)).flow.id).toBe(next.id)
        expect(await store.getFlow(opened.id)).toMatchObject({ status: 'pending', browser_binding: 'binding-1' })
      })

      it('records only the first browser that opens the link', async () => {
        const row = flowRow()
        await store.createOrReuseFlow(row, T0)
        expect(await store.markFlowOpened(row.id, 'binding-1', T0 + 1)).toBe(true)
        expect(await store.markFlowOpened(row.id, 'binding-2', T0 + 2)).toBe(false)
        const stored = await store.getFlow(row.id)
        expect(stored?.opened_at).toBe(T0 + 1)
        expect(stored?.browser_binding).toBe('binding-1')
        expect(await store.markFlowOpened('flow-missing', 'b', T0)).toBe(false)
      })

      it('lets the callback consume the state once, and only while pending', async () => {
        const row = flowRow()
        await store.createOrReuseFlow(row, T0)
        expect(await store.consumeFlowCallback(row.id, T0 + 7)).toBe(true)
        expect(await store.consumeFlowCallback(row.id, T0 + 8)).toBe(false)
        expect((await store.getFlow(row.id))?.callback_at).toBe(T0 + 7)

        const failed = flowRow({ user_id: 'bob' })
        await store.createOrReuseFlow(failed, T0)
        await store.updateFlow(failed.id, { status: 'failed', error: 'expired' })
        expect(await store.consumeFlowCallback(failed.id, T0 + 1)).toBe(false)
        expect((await store.getFlow(failed.id))?.callback_at).toBeNull()

        expect(await store.consumeFlowCallback('flow-missing', T0)).toBe(false)
      })

      it('lets exactly one of 10 concurrent callbacks consume the state', async () => {
        const row = flowRow()
        await store.createOrReuseFlow(row, T0)
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.consumeFlowCallback(row.id, T0 + i)))
        expect(results.filter(Boolean)).toHaveLength(1)
      })

      it('updates only the patched fields of a pending flow', async () => {
        const row = flowRow({ grant_enc: 'enc:grant' })
        await store.createOrReuseFlow(row, T0)
        expect(await store.updateFlow(row.id, { grant_enc: 'enc:other', expires_at: T0 + 9 })).toBe(true)
        expect(await store.getFlow(row.id)).toEqual({ ...row, grant_enc: 'enc:other', expires_at: T0 + 9 })
        expect(
          await store.updateFlow(row.id, {
            status: 'failed',
            error: 'access_denied',
            error_description: 'no',
            grant_enc: null,
            expires_at: T0 + 1,
          }),
        ).toBe(true)
        expect(await store.getFlow(row.id)).toEqual({
          ...row,
          status: 'failed',
          error: 'access_denied',
          error_description: 'no',
          grant_enc: null,
          expires_at: T0 + 1,
        })
      })

      it('never changes a flow once it is completed or failed', async () => {
        const completed = flowRow({ user_id: 'done' })
        await store.createOrReuseFlow(completed, T0)
        const c = await store.completeFlowWithConnection(completed.id, { user_id: 'done', provider_id: completed.provider_id }, () =>
          connectionRow({ user_id: 'done', provider_id: completed.provider_id }),
        )
        // A late failure (an expiry check, a second callback) must not undo the completion.
        expect(await store.updateFlow(completed.id, { status: 'failed', error: 'expired' })).toBe(false)
        expect(await store.getFlow(completed.id)).toMatchObject({ status: 'completed', connection_id: c.id, error: null })

        const failed = flowRow({ user_id: 'failed' })
        await store.createOrReuseFlow(failed, T0)
        expect(await store.updateFlow(failed.id, { status: 'failed', error: 'access_denied' })).toBe(true)
        expect(await store.updateFlow(failed.id, { status: 'failed', error: 'expired', grant_enc: 'enc:late' })).toBe(false)
        expect(await store.getFlow(failed.id)).toMatchObject({ status: 'failed', error: 'access_denied', grant_enc: null })
      })

      it('accepts an empty patch and an unknown id', async () => {
        const row = flowRow()
        await store.createOrReuseFlow(row, T0)
        expect(await store.updateFlow(row.id, {})).toBe(false)
        expect(await store.updateFlow('flow-missing', { status: 'failed' })).toBe(false)
        expect(await store.getFlow(row.id)).toEqual(row)
      })

      it('deletes flows that expired before the given time', async () => {
        const a = flowRow({ user_id: 'a', expires_at: T0 + 1 })
        const b = flowRow({ user_id: 'b', expires_at: T0 + 2 })
        const c = flowRow({ user_id: 'c', expires_at: T0 + 3 })
        for (const f of [a, b, c]) await store.createOrReuseFlow(f, T0 - MINUTE)
        await store.updateFlow(a.id, { status: 'completed' })
        expect(await store.deleteExpiredFlows(T0 + 3)).toBe(2)
        expect(await store.getFlow(a.id)).toBeUndefined()
        expect(await store.getFlow(b.id)).toBeUndefined()
        expect(await store.getFlow(c.id)).toBeDefined()
        expect(await store.deleteExpiredFlows(T0 + 3)).toBe(0)
      })

      it('counts open flows: pending, not called back, not expired', async () => {
        const open = flowRow({ user_id: 'o1' })
        const calledBack = flowRow({ user_id: 'o2' })
        const failed = flowRow({ user_id: 'o3' })
        const expired = flowRow({ user_id: 'o4', expires_at: T0 + 1 })
        for (const f of [open, calledBack, failed, expired]) await store.createOrReuseFlow(f, T0)
        await store.consumeFlowCallback(calledBack.id, T0)
        await store.updateFlow(failed.id, { status: 'failed', error: 'access_denied' })
        expect(await store.countOpenFlows(T0 + 2)).toBe(1)
        expect(await store.countOpenFlows(T0)).toBe(2)
      })

      it('deletes expired flows in batches of the given size', async () => {
        const old = Array.from({ length: 5 }, (_, i) => flowRow({ user_id: `batch-${i}`, expires_at: T0 + i }))
        for (const f of old) await store.createOrReuseFlow(f, T0 - MINUTE)
        const young = flowRow({ user_id: 'young', expires_at: T0 + MINUTE })
        await store.createOrReuseFlow(young, T0 - MINUTE)
        expect(await store.deleteExpiredFlows(T0 + 10, 2)).toBe(2)
        expect(await store.deleteExpiredFlows(T0 + 10, 2)).toBe(2)
        expect(await store.deleteExpiredFlows(T0 + 10, 2)).toBe(1)
        expect(await store.deleteExpiredFlows(T0 + 10, 2)).toBe(0)
        expect(await store.getFlow(young.id)).toBeDefined()
      })
    })

    // ------------------------------------------------------------------ completing a flow

    describe('completeFlowWithConnection', () => {
      it('creates the connection and completes the flow', async () => {
        const flow = flowRow({ grant_enc: 'enc:grant' })
        await store.createOrReuseFlow(flow, T0)
        const c = connectionRow({ updated_at: T0 + 9 })
        const seen: Array<ConnectionRow | undefined> = []
        const stored = await store.completeFlowWithConnection(flow.id, c, (existing) => {
          seen.push(existing)
          return c
        })
        expect(seen).toEqual([undefined])
        expect(stored).toEqual({ ...c, generation: 0 })
        expect(await store.getConnectionById(c.id)).toEqual(stored)
        const done = await store.getFlow(flow.id)
        expect(done).toMatchObject({
          status: 'completed',
          connection_id: c.id,
          completed_at: T0 + 9,
          code_verifier_enc: null,
          grant_enc: null,
        })
      })

      it('hands the existing row to the builder and replaces it under the same id', async () => {
        const first = await seedConnection(store, { user_info: { sub: 'one' }, account_id: 'acct-1', account_label: 'Alice' })
        await store.updateConnection(first.id, { status: 'reauth_required', last_refresh_error: 'invalid_grant', refresh_failures: 3 })
        const before = (await store.getConnectionById(first.id))!

        const flow = flowRow({ scope_key: 'more', grant_enc: 'enc:grant-2' })
        await store.createOrReuseFlow(flow, T0)
        let seen: ConnectionRow | undefined
        const updated = await store.completeFlowWithConnection(flow.id, first, (existing) => {
          seen = existing
          // The broker decides what of the old grant to keep; here: the refresh token.
          return connectionRow({
            id: existing!.id,
            created_at: existing!.created_at,
            scopes: ['repo', 'gist'],
            access_token_enc: 'enc:access-2',
            refresh_token_enc: existing!.refresh_token_enc,
            updated_at: T0 + 100,
          })
        })
        expect(seen).toEqual(before)
        expect(updated).toMatchObject({
          id: first.id,
          status: 'active',
          scopes: ['repo', 'gist'],
          access_token_enc: 'enc:access-2',
          refresh_token_enc: first.refresh_token_enc,
          last_refresh_error: null,
          refresh_failures: 0,
          created_at: first.created_at,
          updated_at: T0 + 100,
          generation: before.generation + 1,
        })
        expect(await store.getConnection('alice', 'github')).toEqual(updated)
        expect((await store.listConnections({}, 10, 0)).total).toBe(1)
        expect(await store.getFlow(flow.id)).toMatchObject({
          status: 'completed',
          connection_id: first.id,
          code_verifier_enc: null,
          grant_enc: null,
        })
      })

      it('keeps what a grant asked for apart from what it got (null: not recorded), on every read path', async () => {
        const flow = flowRow()
        await store.createOrReuseFlow(flow, T0)
        const c = connectionRow({ scopes: ['repo'], requested_scopes: ['read:user', 'repo', 'gist'] })
        await store.completeFlowWithConnection(flow.id, c, () => c)
        for (const read of [await store.getConnection('alice', 'github'), await store.getConnectionById(c.id)]) {
          expect(read).toMatchObject({ scopes: ['repo'], requested_scopes: ['read:user', 'repo', 'gist'] })
        }
        expect((await store.listConnections({}, 10, 0)).items[0]!.requested_scopes).toEqual(['read:user', 'repo', 'gist'])
        // A refresh's patch leaves it; an explicit null is stored as null, not as the string "null".
        await store.updateConnection(c.id, { scopes: ['repo', 'gist'], access_token_enc: 'enc:refreshed' })
        expect((await store.getConnectionById(c.id))!.requested_scopes).toEqual(['read:user', 'repo', 'gist'])
        await store.updateConnection(c.id, { requested_scopes: null })
        expect((await store.getConnection('alice', 'github'))!.requested_scopes).toBeNull()
        expect((await sql<{ r: string | null }>`select requested_scopes as r from connections`.execute(store.db)).rows).toEqual([
          { r: null },
        ])
      })

      it("refuses a builder that changes an existing connection's id, writing nothing", async () => {
        const first = await seedConnection(store)
        const flow = flowRow({ scope_key: 'other' })
        await store.createOrReuseFlow(flow, T0)
        await expect(store.completeFlowWithConnection(flow.id, first, () => connectionRow({ id: 'conn-other' }))).rejects.toThrow(
          /existing id/,
        )
        expect(await store.getConnectionById(first.id)).toEqual(first)
        expect((await store.getFlow(flow.id))!.status).toBe('pending')
      })
    })

    // ------------------------------------------------------------------ connections

    describe('connections', () => {
      it('reads a connection by (user, provider) and by id', async () => {
        const c = await seedConnection(store, { user_id: 'u1', provider_id: 'p1' })
        expect(await store.getConnection('u1', 'p1')).toEqual(c)
        expect(await store.getConnectionById(c.id)).toEqual(c)
        expect(await store.getConnection('u1', 'p2')).toBeUndefined()
        expect(await store.getConnection('u2', 'p1')).toBeUndefined()
        expect(await store.getConnectionById('conn-missing')).toBeUndefined()
      })

      it('counts connections by status', async () => {
        expect(await store.countConnectionsByStatus()).toEqual({})
        await seedConnection(store, { user_id: 'u1', status: 'active' })
        await seedConnection(store, { user_id: 'u2', status: 'active' })
        await seedConnection(store, { user_id: 'u3', status: 'reauth_required' })
        expect(await store.countConnectionsByStatus()).toEqual({ active: 2, reauth_required: 1 })
      })

      it('updates fields; only token writes bump the generation', async () => {
        const c = await seedConnection(store)
        await store.updateConnection(c.id, { last_used_at: T0 + 1, scopes: ['x'], user_info: { a: [1, 2] }, status: 'revoked' })
        let stored = await store.getConnectionById(c.id)
        expect(stored).toEqual({ ...c, last_used_at: T0 + 1, scopes: ['x'], user_info: { a: [1, 2] }, status: 'revoked' })

        await store.updateConnection(c.id, { access_token_enc: 'enc:new', user_info: null })
        stored = await store.getConnectionById(c.id)
        expect(stored?.generation).toBe(c.generation + 1)
        expect(stored?.access_token_enc).toBe('enc:new')
        expect(stored?.user_info).toBeNull()

        await store.updateConnection(c.id, { refresh_token_enc: null })
        stored = await store.getConnectionById(c.id)
        expect(stored?.generation).toBe(c.generation + 2)
        expect(stored?.refresh_token_enc).toBeNull()

        await store.updateConnection(c.id, {})
        await store.updateConnection('conn-missing', { status: 'revoked' })
        expect(await store.getConnectionById(c.id)).toEqual(stored)
      })

      it('lists with filters, paging and a total that ignores paging', async () => {
        const made: ConnectionRow[] = []
        for (const [user, provider, created] of [
          ['u1', 'github', 5],
          ['u1', 'google', 1],
          ['u2', 'github', 3],
          ['u2', 'google', 3],
          ['u3', 'github', 2],
        ] as const) {
          made.push(await seedConnection(store, { user_id: user, provider_id: provider, created_at: T0 + created }))
        }
        await store.updateConnection(made[2]!.id, { status: 'reauth_required' })
        const ids = (r: { items: ConnectionRow[] }) => r.items.map((c) => `${c.user_id}/${c.provider_id}`)

        // Oldest first; equal creation times by id.
        const all = await store.listConnections({}, 100, 0)
        expect(all.total).toBe(5)
        expect(ids(all)).toEqual(['u1/google', 'u3/github', 'u2/github', 'u2/google', 'u1/github'])

        const page = await store.listConnections({}, 2, 2)
        expect(page.total).toBe(5)
        expect(ids(page)).toEqual(['u2/github', 'u2/google'])
        expect((await store.listConnections({}, 2, 10)).items).toEqual([])

        expect(ids(await store.listConnections({ user_id: 'u1' }, 100, 0))).toEqual(['u1/google', 'u1/github'])
        const github = await store.listConnections({ provider_id: 'github' }, 1, 1)
        expect(github.total).toBe(3)
        expect(ids(github)).toEqual(['u2/github'])
        expect(ids(await store.listConnections({ status: 'reauth_required' }, 100, 0))).toEqual(['u2/github'])
        const active = await store.listConnections({ provider_id: 'github', status: 'active' }, 100, 0)
        expect(active.total).toBe(2)
        expect(ids(await store.listConnections({ user_id: 'u2', provider_id: 'google' }, 100, 0))).toEqual(['u2/google'])
        expect(await store.listConnections({ user_id: 'nobody' }, 100, 0)).toEqual({ items: [], total: 0 })
        expect(all.items[0]).toEqual(made[1])
        // dashboard (issue 12): the account filter matches the account id or its label, exactly
        await store.updateConnection(made[3]!.id, { account_id: 'acct-42', account_label: 'u2@example.com' })
        expect(ids(await store.listConnections({ account: 'acct-42' }, 100, 0))).toEqual(['u2/google'])
        expect(ids(await store.listConnections({ account: 'u2@example.com', provider_id: 'google' }, 100, 0))).toEqual(['u2/google'])
        expect((await store.listConnections({ account: 'acct-4' }, 100, 0)).total).toBe(0)
      })

      it('records last uses in one batch: times only move forward, unknown ids skipped, nothing published', async () => {
        const a = await seedConnection(store, { user_id: 'u1' })
        const b = await seedConnection(store, { user_id: 'u2', last_used_at: T0 + 50 })
        const events: StoreEvent[] = []
        const unsubscribe = store.subscribe((e) => events.push(e))
        await store.touchConnections(
          new Map([
            [a.id, T0 + 10],
            [b.id, T0 + 20],
            ['conn-missing', T0 + 30],
          ]),
        )
        expect((await store.getConnectionById(a.id))?.last_used_at).toBe(T0 + 10)
        // An older time flushed late by another process does not set it back.
        expect((await store.getConnectionById(b.id))?.last_used_at).toBe(T0 + 50)
        await store.touchConnections(
          new Map([
            [a.id, T0 + 5],
            [b.id, T0 + 60],
          ]),
        )
        expect(await store.getConnectionById(a.id)).toEqual({ ...a, last_used_at: T0 + 10 })
        expect(await store.getConnectionById(b.id)).toEqual({ ...b, last_used_at: T0 + 60 })
        await store.touchConnections(new Map())
        unsubscribe()
        expect(events).toEqual([])
      })

      it('records 2,500 last uses in one call', async () => {
        const c = await seedConnection(store)
        const uses = new Map<string, number>(Array.from({ length: 2499 }, (_, i) => [`conn-missing-${i}`, T0 + i]))
        uses.set(c.id, T0 + 7)
        await store.touchConnections(uses)
        expect((await store.getConnectionById(c.id))?.last_used_at).toBe(T0 + 7)
      })

      it('never reads a connection write that is not committed (a transaction rolled back after it)', async () => {
        const c = await seedConnection(store)
        let during: Promise<ConnectionRow | undefined> | undefined
        await expect(
          store.db.transaction().execute(async (tx) => {
            await tx.updateTable('connections').set({ status: 'revoked' }).where('id', '=', c.id).execute()
            during = store.getConnection(c.user_id, c.provider_id)
            await new Promise((resolve) => setTimeout(resolve, 20))
            throw new Error('roll back')
          }),
        ).rejects.toThrow('roll back')
        expect((await during)?.status).toBe('active')
        expect((await store.getConnectionById(c.id))?.status).toBe('active')
      })

      it('deletes a connection once', async () => {
        const c = await seedConnection(store)
        expect(await store.deleteConnection(c.id)).toBe(true)
        expect(await store.deleteConnection(c.id)).toBe(false)
        expect(await store.getConnectionById(c.id)).toBeUndefined()
        expect(await store.getConnection(c.user_id, c.provider_id)).toBeUndefined()
      })

      it('lists connections to refresh: active, refreshable, expiring, not cooling down', async () => {
        const now = T0
        const before = T0 + 10 * MINUTE
        const seed = (user: string, over: Partial<NewConnection>) => seedConnection(store, { user_id: user, ...over })
        const due = await seed('due', { expires_at: T0 + 5 * MINUTE })
        const overdue = await seed('overdue', { expires_at: T0 - MINUTE })
        const cooled = await seed('cooled', { expires_at: T0 + 2 * MINUTE, refresh_cooldown_until: now - 1 })
        await seed('cooling', { expires_at: T0 + 3 * MINUTE, refresh_cooldown_until: now + MINUTE })
        await seed('no-refresh-token', { expires_at: T0 + MINUTE, refresh_token_enc: null })
        await seed('no-expiry', { expires_at: null })
        await seed('later', { expires_at: before })
        const reauth = await seed('reauth', { expires_at: T0 + MINUTE })
        await store.updateConnection(reauth.id, { status: 'reauth_required' })
        const revoked = await seed('revoked', { expires_at: T0 + MINUTE })
        await store.updateConnection(revoked.id, { status: 'revoked' })

        const list = await store.listConnectionsToRefresh(before, now, 100)
        expect(list.map((c) => c.user_id)).toEqual(['overdue', 'cooled', 'due'])
        expect(list[0]).toEqual(overdue)
        expect((await store.listConnectionsToRefresh(before, now, 2)).map((c) => c.id)).toEqual([overdue.id, cooled.id])
        // Once the cooldown has passed, the cooling connection is due as well.
        expect((await store.listConnectionsToRefresh(before, now + 2 * MINUTE, 100)).map((c) => c.user_id)).toEqual([
          'overdue',
          'cooled',
          'cooling',
          'due',
        ])
        expect(due.expires_at).toBe(T0 + 5 * MINUTE)
      })

      it('lists a token that lives shorter than the window only once it is past half its life', async () => {
        const before = T0 + 10 * MINUTE
        // 6-minute tokens: due 3 minutes after they were issued.
        await seedConnection(store, { user_id: 'young', token_issued_at: T0 - 2 * MINUTE, expires_at: T0 + 4 * MINUTE })
        const old = await seedConnection(store, { user_id: 'old', token_issued_at: T0 - 4 * MINUTE, expires_at: T0 + 2 * MINUTE })
        const unknown = await seedConnection(store, { user_id: 'unknown', token_issued_at: null, expires_at: T0 + 5 * MINUTE })
        expect((await store.listConnectionsToRefresh(before, T0, 100)).map((c) => c.id)).toEqual([old.id, unknown.id])
        expect((await store.listConnectionsToRefresh(before, T0 + MINUTE, 100)).map((c) => c.user_id)).toEqual(['old', 'young', 'unknown'])
      })
    })

    // ------------------------------------------------------------------ refresh lock

    describe('withRefreshLock', () => {
      it('hands fn the current row, returns its value and persists its writes', async () => {
        const c = await seedConnection(store)
        await store.updateConnection(c.id, { last_refresh_error: 'before' })
        const result = await store.withRefreshLock(c.id, async ({ current, update }) => {
          // The lease fields are the lock's own bookkeeping (SQLite); everything else is the row.
          expect({ ...current, refresh_lease_owner: null, refresh_lease_until: null }).toEqual({ ...c, last_refresh_error: 'before' })
          await update({ access_token_enc: 'enc:refreshed', last_refresh_at: T0 + 1, last_refresh_error: null })
          return 'done'
        })
        expect(result).toBe('done')
        const stored = await store.getConnectionById(c.id)
        expect(stored).toMatchObject({
          access_token_enc: 'enc:refreshed',
          last_refresh_at: T0 + 1,
          last_refresh_error: null,
          generation: c.generation + 1,
        })
        // Non-token writes inside the lock leave the generation alone.
        await store.withRefreshLock(c.id, ({ update }) => update({ last_refresh_error: 'x' }))
        expect((await store.getConnectionById(c.id))?.generation).toBe(c.generation + 1)
      })

      it('never lets two holders in at once (5 concurrent read-modify-writes, no lost update)', async () => {
        const c = await seedConnection(store)
        const log: string[] = []
        const times: Array<{ holder: number; enter: number; exit: number }> = []
        const seen: number[] = []
        await Promise.all(
          Array.from({ length: 5 }, (_, holder) =>
            store.withRefreshLock(c.id, async ({ current, update }) => {
              const enter = performance.now()
              log.push(`enter:${holder}`)
              const failures = current!.refresh_failures
              seen.push(failures)
              // Give any other holder every chance to run in between the read and the write.
              await pause(10)
              await update({ refresh_failures: failures + 1 })
              log.push(`exit:${holder}`)
              times.push({ holder, enter, exit: performance.now() })
            }),
          ),
        )
        expectSerialized(log, 5)
        times.sort((a, b) => a.enter - b.enter)
        for (let i = 1; i < times.length; i++) expect(times[i]!.enter).toBeGreaterThanOrEqual(times[i - 1]!.exit)
        expect(seen).toEqual([0, 1, 2, 3, 4])
        expect((await store.getConnectionById(c.id))?.refresh_failures).toBe(5)
      })

      it("re-reads the row inside the lock: the second holder sees the first holder's update", async () => {
        const c = await seedConnection(store)
        const log: string[] = []
        const firstInside = latch()
        const releaseFirst = latch()
        const first = store.withRefreshLock(c.id, async ({ current, update }) => {
          log.push('enter:1')
          expect(current?.access_token_enc).toBe(c.access_token_enc)
          firstInside.resolve()
          await releaseFirst.promise
          await update({ access_token_enc: 'enc:by-first', expires_at: T0 + 99 })
          log.push('exit:1')
          return 'first'
        })
        await firstInside.promise
        // The second holder queues up while the first holds the lock (its row read is stale).
        const staleRead = await store.getConnectionById(c.id)
        expect(staleRead?.access_token_enc).toBe(c.access_token_enc)
        const second = store.withRefreshLock(c.id, async ({ current }) => {
          log.push('enter:2')
          log.push('exit:2')
          return current
        })
        // Let the second holder try (and fail) to take the lock before the first lets go.
        await pause(50)
        expect(log).toEqual(['enter:1'])
        releaseFirst.resolve()
        const [r1, seenBySecond] = await Promise.all([first, second])
        expect(r1).toBe('first')
        expect(log).toEqual(['enter:1', 'exit:1', 'enter:2', 'exit:2'])
        expect(seenBySecond?.access_token_enc).toBe('enc:by-first')
        expect(seenBySecond?.expires_at).toBe(T0 + 99)
        expect(seenBySecond?.generation).toBe(c.generation + 1)
      })

      it('gives an undefined current for a deleted (or unknown) connection', async () => {
        const c = await seedConnection(store)
        expect(await store.deleteConnection(c.id)).toBe(true)
        const r = await store.withRefreshLock(c.id, async ({ current, update }) => {
          await update({ status: 'revoked' })
          return { current }
        })
        expect(r).toEqual({ current: undefined })
        expect(await store.withRefreshLock('conn-missing', async ({ current }) => current ?? 'none')).toBe('none')
        expect(await store.getConnectionById(c.id)).toBeUndefined()
      })

      it('deletes within the lock: a holder queued behind finds no row, and subscribers hear of it after', async () => {
        const c = await seedConnection(store)
        const events: StoreEvent[] = []
        const off = store.subscribe((e) => events.push(e))
        const inside = latch()
        const release = latch()
        const first = store.withRefreshLock(c.id, async ({ delete: remove }) => {
          inside.resolve()
          await release.promise
          return remove()
        })
        await inside.promise
        const second = store.withRefreshLock(c.id, async ({ current, update }) => ({
          current,
          wrote: await update({ last_refresh_error: 'late' }),
        }))
        await pause(50)
        expect(events.filter((e) => e.channel === 'connection')).toEqual([])
        release.resolve()
        expect(await first).toBe(true)
        expect(await second).toEqual({ current: undefined, wrote: false })
        expect(await store.getConnectionById(c.id)).toBeUndefined()
        await within(
          (async () => {
            while (!events.some((e) => e.channel === 'connection' && e.id === c.id)) await pause(5)
          })(),
          5000,
          'connection event after the delete',
        )
        off()
      })

      it('releases the lock when the holder throws', async () => {
        const c = await seedConnection(store)
        const boom = new Error('provider exploded')
        await expect(
          store.withRefreshLock(c.id, async () => {
            throw boom
          }),
        ).rejects.toBe(boom)
        // The next holder gets in at once (a leaked lease or row lock would make it wait or hang).
        expect(
          await within(
            store.withRefreshLock(c.id, async ({ current }) => current?.id),
            5000,
            'lock after a failed holder',
          ),
        ).toBe(c.id)
      })

      it('does not block holders of other connections', async () => {
        const a = await seedConnection(store, { user_id: 'a' })
        const b = await seedConnection(store, { user_id: 'b' })
        const bInside = latch()
        // a's holder waits for b's holder to be inside: if locks were not per connection, this would hang.
        const holdA = store.withRefreshLock(a.id, async () => {
          await bInside.promise
          return 'a'
        })
        const holdB = store.withRefreshLock(b.id, async () => {
          bInside.resolve()
          return 'b'
        })
        expect(await within(Promise.all([holdA, holdB]), 5000, 'independent locks')).toEqual(['a', 'b'])
      })

      it('is not blocked by a lease left behind by a crashed holder once it expired', async () => {
        const c = await seedConnection(store)
        await store.updateConnection(c.id, { refresh_lease_owner: 'crashed-process', refresh_lease_until: Date.now() - 1 })
        expect(
          await within(
            store.withRefreshLock(c.id, async ({ current }) => current?.id),
            5000,
            'lock after an expired lease',
          ),
        ).toBe(c.id)
      })
    })

    // ------------------------------------------------------------------ providers

    describe('providers', () => {
      it('upserts, reads, lists by id and deletes', async () => {
        const b = providerRow({ id: 'prov-b' })
        const a = providerRow({ id: 'prov-a', client_secret_enc: null })
        await store.upsertProvider(b)
        await store.upsertProvider(a)
        expect(await store.getProvider('prov-b')).toEqual(b)
        expect(await store.getProvider('prov-missing')).toBeUndefined()
        expect(await store.listProviders()).toEqual([a, b])

        const changed = { ...b, config: '{"changed":true}', client_secret_enc: null, created_at: T0 + 50, updated_at: T0 + 50 }
        await store.upsertProvider(changed)
        // created_at is the first insert's.
        expect(await store.getProvider('prov-b')).toEqual({ ...changed, created_at: b.created_at })
        expect(await store.listProviders()).toHaveLength(2)

        expect(await store.deleteProvider('prov-a')).toBe(true)
        expect(await store.deleteProvider('prov-a')).toBe(false)
        expect((await store.listProviders()).map((p) => p.id)).toEqual(['prov-b'])
      })
    })

    // ------------------------------------------------------------------ audit

    describe('audit', () => {
      it('appends and lists newest first, with details round-tripped', async () => {
        const e1 = auditEntry({ id: 'audit-1', at: T0 + 1, detail: { n: 1, list: ['a'], nested: { ok: true } } })
        const e2 = auditEntry({ id: 'audit-2', at: T0 + 3, detail: null, actor: null, user_id: null, provider_id: null })
        const e3a = auditEntry({ id: 'audit-3a', at: T0 + 2 })
        const e3b = auditEntry({ id: 'audit-3b', at: T0 + 2 })
        await store.appendAudit([e1, e3b])
        await store.appendAudit([e2, e3a])
        await store.appendAudit([])
        const r = await store.listAudit({}, 10, 0)
        expect(r.total).toBe(4)
        expect(r.items).toEqual([e2, e3b, e3a, e1])
      })

      it('deletes entries older than a time, in batches of the given size', async () => {
        await store.appendAudit(Array.from({ length: 5 }, (_, i) => auditEntry({ id: `old-${i}`, at: T0 + i })))
        await store.appendAudit([auditEntry({ id: 'kept', at: T0 + 5 })])
        expect(await store.deleteAuditBefore(T0 + 5, 3)).toBe(3)
        expect(await store.deleteAuditBefore(T0 + 5, 3)).toBe(2)
        expect(await store.deleteAuditBefore(T0 + 5, 3)).toBe(0)
        expect((await store.listAudit({}, 10, 0)).items.map((e) => e.id)).toEqual(['kept'])
      })

      it('appends more than 500 entries in one call', async () => {
        const entries = Array.from({ length: 1234 }, (_, i) =>
          auditEntry({ id: `bulk-${String(i).padStart(5, '0')}`, at: T0 + i, detail: { i } }),
        )
        await store.appendAudit(entries)
        const r = await store.listAudit({}, 2000, 0)
        expect(r.total).toBe(1234)
        expect(r.items).toHaveLength(1234)
        expect(r.items[0]).toEqual(entries[1233])
        expect(r.items[1233]).toEqual(entries[0])
        expect(new Set(r.items.map((e) => e.id)).size).toBe(1234)
      })

      it('filters, pages and counts', async () => {
        await store.appendAudit([
          auditEntry({
            id: 'a1',
            at: T0 + 1,
            user_id: 'u1',
            provider_id: 'github',
            connection_id: 'c1',
            action: 'connection.created',
            actor: 'k1',
          }),
          auditEntry({
            id: 'a2',
            at: T0 + 2,
            user_id: 'u1',
            provider_id: 'google',
            connection_id: 'c2',
            action: 'connection.refreshed',
            actor: 'system',
          }),
          auditEntry({
            id: 'a3',
            at: T0 + 3,
            user_id: 'u2',
            provider_id: 'github',
            connection_id: 'c3',
            action: 'connection.refreshed',
            actor: 'system',
          }),
          auditEntry({
            id: 'a4',
            at: T0 + 4,
            user_id: 'u2',
            provider_id: 'github',
            connection_id: 'c3',
            action: 'connection.deleted',
            actor: 'k1',
          }),
          auditEntry({
            id: 'a5',
            at: T0 + 5,
            user_id: null,
            provider_id: null,
            connection_id: null,
            action: 'api_key.created',
            actor: 'k1',
          }),
        ])
        const ids = async (f: Parameters<KyselyStore['listAudit']>[0], limit = 100, offset = 0) => {
          const r = await store.listAudit(f, limit, offset)
          return { ids: r.items.map((e) => e.id), total: r.total }
        }
        expect(await ids({ user_id: 'u1' })).toEqual({ ids: ['a2', 'a1'], total: 2 })
        expect(await ids({ provider_id: 'github' })).toEqual({ ids: ['a4', 'a3', 'a1'], total: 3 })
        expect(await ids({ connection_id: 'c3' })).toEqual({ ids: ['a4', 'a3'], total: 2 })
        expect(await ids({ action: 'connection.refreshed' })).toEqual({ ids: ['a3', 'a2'], total: 2 })
        expect(await ids({ actor: 'k1' })).toEqual({ ids: ['a5', 'a4', 'a1'], total: 3 })
        expect(await ids({ since: T0 + 3 })).toEqual({ ids: ['a5', 'a4', 'a3'], total: 3 })
        expect(await ids({ user_id: 'u2', action: 'connection.refreshed', actor: 'system' })).toEqual({ ids: ['a3'], total: 1 })
        expect(await ids({ user_id: undefined, provider_id: 'github' }, 1, 1)).toEqual({ ids: ['a3'], total: 3 })
        expect(await ids({}, 2, 0)).toEqual({ ids: ['a5', 'a4'], total: 5 })
        expect(await ids({}, 2, 4)).toEqual({ ids: ['a1'], total: 5 })
        expect(await ids({ user_id: 'nobody' })).toEqual({ ids: [], total: 0 })
      })
    })

    // ------------------------------------------------------------------ meta

    describe('meta', () => {
      it('gets and sets values', async () => {
        expect(await store.getMeta('keyring.fingerprint')).toBeUndefined()
        await store.setMeta('keyring.fingerprint', 'one')
        expect(await store.getMeta('keyring.fingerprint')).toBe('one')
        await store.setMeta('keyring.fingerprint', 'two')
        await store.setMeta('other', '')
        expect(await store.getMeta('keyring.fingerprint')).toBe('two')
        expect(await store.getMeta('other')).toBe('')
      })
    })

    // ------------------------------------------------------------------ secrets

    describe('secrets', () => {
      it('lists every envelope of each table in id order, in batches', async () => {
        const conns: ConnectionRow[] = []
        for (let i = 0; i < 5; i++) {
          conns.push(
            await seedConnection(store, { id: `conn-s${i}`, user_id: `user-${i}`, refresh_token_enc: i === 2 ? null : `enc:refresh:${i}` }),
          )
        }
        const seen: string[] = []
        let after = ''
        for (;;) {
          const batch = await store.listSecrets('connections', after, 2)
          if (batch.length === 0) break
          expect(batch.length).toBeLessThanOrEqual(2)
          for (const row of batch) {
            const c = conns.find((x) => x.id === row.id)!
            expect(row.fields).toEqual({ access_token_enc: c.access_token_enc, refresh_token_enc: c.refresh_token_enc })
            seen.push(row.id)
          }
          after = batch[batch.length - 1]!.id
        }
        expect(seen).toEqual(['conn-s0', 'conn-s1', 'conn-s2', 'conn-s3', 'conn-s4'])

        const flow = flowRow({ id: 'flow-s1', user_id: 'zed', grant_enc: 'enc:grant' })
        await store.createOrReuseFlow(flow, T0)
        const flows = await store.listSecrets('flows', '', 100)
        expect(flows).toContainEqual({
          id: 'flow-s1',
          fields: { code_verifier_enc: flow.code_verifier_enc, grant_enc: 'enc:grant', state_enc: flow.state_enc },
        })

        await store.upsertProvider(providerRow({ id: 'prov-s1' }))
        await store.upsertProvider(providerRow({ id: 'prov-s2', client_secret_enc: null }))
        expect(await store.listSecrets('providers', '', 100)).toEqual([
          { id: 'prov-s1', fields: { client_secret_enc: 'enc:secret:prov-s1' } },
          { id: 'prov-s2', fields: { client_secret_enc: null } },
        ])
        expect(await store.listSecrets('providers', 'prov-s1', 100)).toEqual([{ id: 'prov-s2', fields: { client_secret_enc: null } }])

        expect(await store.getSecrets('connections', 'conn-s2')).toEqual({
          id: 'conn-s2',
          fields: { access_token_enc: conns[2]!.access_token_enc, refresh_token_enc: null },
        })
        expect(await store.getSecrets('connections', 'conn-missing')).toBeUndefined()
      })

      it('replaces envelopes only if the row still holds the old ones (compare-and-swap)', async () => {
        const c = await seedConnection(store, { refresh_token_enc: null })
        const before = (await store.getSecrets('connections', c.id))!.fields
        expect(before).toEqual({ access_token_enc: c.access_token_enc, refresh_token_enc: null })

        // Unchanged row: the swap happens (a null field matches null).
        const after = { access_token_enc: 'enc:v2:access', refresh_token_enc: null }
        expect(await store.replaceSecrets('connections', c.id, before, after)).toBe(true)
        expect((await store.getSecrets('connections', c.id))!.fields).toEqual(after)

        // Stale `before` (the old envelope): refused, nothing written.
        expect(
          await store.replaceSecrets('connections', c.id, before, { access_token_enc: 'enc:v3:access', refresh_token_enc: null }),
        ).toBe(false)
        expect((await store.getSecrets('connections', c.id))!.fields).toEqual(after)

        // A refresh rewrote the row between the read and the swap: the refresh wins.
        const read = (await store.getSecrets('connections', c.id))!.fields
        await store.updateConnection(c.id, { access_token_enc: 'enc:refreshed', refresh_token_enc: 'enc:new-refresh' })
        expect(await store.replaceSecrets('connections', c.id, read, { access_token_enc: 'enc:v3:access', refresh_token_enc: null })).toBe(
          false,
        )
        expect((await store.getSecrets('connections', c.id))!.fields).toEqual({
          access_token_enc: 'enc:refreshed',
          refresh_token_enc: 'enc:new-refresh',
        })

        expect(await store.replaceSecrets('connections', 'conn-missing', read, read)).toBe(false)

        // Other tables.
        await store.upsertProvider(providerRow({ id: 'prov-cas' }))
        expect(await store.replaceSecrets('providers', 'prov-cas', { client_secret_enc: 'wrong' }, { client_secret_enc: 'enc:v2' })).toBe(
          false,
        )
        expect(
          await store.replaceSecrets(
            'providers',
            'prov-cas',
            { client_secret_enc: 'enc:secret:prov-cas' },
            { client_secret_enc: 'enc:v2' },
          ),
        ).toBe(true)
        expect((await store.getProvider('prov-cas'))?.client_secret_enc).toBe('enc:v2')
        const flow = flowRow({ grant_enc: null })
        await store.createOrReuseFlow(flow, T0)
        expect(
          await store.replaceSecrets(
            'flows',
            flow.id,
            { code_verifier_enc: flow.code_verifier_enc, grant_enc: null },
            { code_verifier_enc: 'enc:v2', grant_enc: null },
          ),
        ).toBe(true)
        expect((await store.getFlow(flow.id))?.code_verifier_enc).toBe('enc:v2')
      })

      it('lists and swaps MCP registration secrets, keyed by issuer', async () => {
        const mcp = new KyselyMcpStore(store.db)
        const reg = (issuer: string, client_secret_enc: string | null) =>
          mcp.addRegistration({ issuer, method: 'dcr', client_id: `c-${issuer}`, client_secret_enc, auth_method: 'none', created_at: T0 })
        await reg('https://as-a.example', 'enc:a')
        await reg('https://as-b.example', null)
        expect(await store.listSecrets('mcp_client_registrations', '', 100)).toEqual([
          { id: 'https://as-a.example', fields: { client_secret_enc: 'enc:a' } },
          { id: 'https://as-b.example', fields: { client_secret_enc: null } },
        ])
        expect(await store.listSecrets('mcp_client_registrations', 'https://as-a.example', 100)).toHaveLength(1)
        expect(await store.getSecrets('mcp_client_registrations', 'https://as-a.example')).toEqual({
          id: 'https://as-a.example',
          fields: { client_secret_enc: 'enc:a' },
        })
        const swap = (before: string) =>
          store.replaceSecrets(
            'mcp_client_registrations',
            'https://as-a.example',
            { client_secret_enc: before },
            { client_secret_enc: 'enc:v2' },
          )
        expect(await swap('stale')).toBe(false)
        expect(await swap('enc:a')).toBe(true)
        expect((await mcp.getRegistration('https://as-a.example'))?.client_secret_enc).toBe('enc:v2')
      })
    })

    // ------------------------------------------------------------------ events

    describe('events', () => {
      it('delivers published events to subscribers in this process, in order, until they unsubscribe', async () => {
        const a: StoreEvent[] = []
        const b: StoreEvent[] = []
        const offA = store.subscribe((e) => a.push(e))
        const offB = store.subscribe((e) => b.push(e))
        const e1: StoreEvent = { channel: 'flow', id: 'f1' }
        const e2: StoreEvent = { channel: 'api_key', id: 'k1' }
        const e3: StoreEvent = { channel: 'provider', id: 'p1' }
        await store.publish(e1)
        // In-process delivery does not wait for any round trip.
        expect(a).toEqual([e1])
        await store.publish(e2)
        offA()
        await store.publish(e3)
        offB()
        await store.publish({ channel: 'flow', id: 'unheard' })
        expect(a).toEqual([e1, e2])
        expect(b).toEqual([e1, e2, e3])
      })

      it('publishes a flow event itself after each write that changes a flow, and after the commit', async () => {
        const events: StoreEvent[] = []
        const reads: Array<FlowRow['status'] | undefined> = []
        const flow = flowRow()
        await store.createOrReuseFlow(flow, T0)
        // A woken long-poll re-reads the flow: by then the write must be visible.
        const off = store.subscribe((e) => {
          events.push(e)
          if (e.channel === 'flow') void store.getFlow(e.id).then((f) => reads.push(f?.status))
        })
        try {
          expect(await store.updateFlow(flow.id, { grant_enc: 'enc:held' })).toBe(true)
          expect(events).toEqual([{ channel: 'flow', id: flow.id }])
          await store.updateFlow(flow.id, { status: 'failed', error: 'expired' })
          expect(events).toHaveLength(2)
          // A write the guard refuses (the flow is final) changes nothing, and wakes nobody.
          expect(await store.updateFlow(flow.id, { status: 'completed' })).toBe(false)
          expect(events).toHaveLength(2)

          const other = flowRow({ scope_key: 'done' })
          await store.createOrReuseFlow(other, T0)
          const c = connectionRow({ updated_at: T0 + 1 })
          await store.completeFlowWithConnection(other.id, c, () => c)
          expect(events.slice(2)).toEqual([
            { channel: 'connection', id: c.id },
            { channel: 'flow', id: other.id },
          ])
          await new Promise((r) => setTimeout(r, 50))
          expect(reads.sort()).toEqual(['completed', 'failed', 'pending'])
        } finally {
          off()
        }
      })

      it('publishes a flow event for each flow the interrupted-callback sweep fails', async () => {
        const stuck = flowRow({ scope_key: 'stuck' })
        await store.createOrReuseFlow(stuck, T0)
        expect(await store.consumeFlowCallback(stuck.id, T0 + 1)).toBe(true)
        const events: StoreEvent[] = []
        const off = store.subscribe((e) => events.push(e))
        try {
          const failed = await store.failInterruptedCallbacks(T0 + 2, { error: 'callback_interrupted', error_description: 'test' })
          expect(failed.map((f) => f.id)).toEqual([stuck.id])
          expect(events).toEqual([{ channel: 'flow', id: stuck.id }])
        } finally {
          off()
        }
      })
    })
  })
}

/**
 * An upgrade: a database at 0001-init with a connection in it is migrated to the latest schema
 * by `migrate()`, keeping the row (with `token_issued_at` unknown), and a second run does nothing.
 */
export function itUpgradesFrom0001(openUnmigrated: () => Promise<{ store: KyselyStore; drop: () => Promise<void> }>): void {
  it('upgrades a database written by 0001-init, keeping its connections (token_issued_at unknown) and hashing pending states', async () => {
    const { store, drop } = await openUnmigrated()
    try {
      expect(await migrateTo(store.db, '0001-init')).toEqual(['0001-init'])
      await sql`insert into connections (id, user_id, provider_id, status, scopes, access_token_enc, refresh_token_enc, token_type, expires_at,
        refresh_token_expires_at, account_id, account_label, user_info, created_at, updated_at, last_used_at, last_refresh_at, last_refresh_error,
        refresh_failures, refresh_cooldown_until, refresh_lease_owner, refresh_lease_until, generation)
        values ('cn_old', 'alice', 'github', 'active', '["repo"]', 'enc:a', 'enc:r', 'bearer', ${T0 + 3_600_000},
        null, 'acct', 'Alice', null, ${T0}, ${T0}, null, null, null, 0, null, null, null, 1)`.execute(store.db)
      // A flow whose browser is at the provider during the upgrade: its state is hashed by 0004-state-hash.
      await sql`insert into flows (id, state, user_id, provider_id, scopes, requested_scopes, scope_key, code_verifier_enc, nonce, redirect_uri,
        next_uri, status, created_at, expires_at) values ('fl_old', 'old-state', 'bob', 'github', '["repo"]', '["repo"]', 'repo', null, null,
        'http://127.0.0.1/oauth/callback', null, 'pending', ${T0}, ${T0 + 600_000})`.execute(store.db)
      expect((await store.migrate())[0]).toBe('0002-token-issued-at')
      expect(await store.getConnectionById('cn_old')).toMatchObject({
        user_id: 'alice',
        scopes: ['repo'],
        expires_at: T0 + 3_600_000,
        token_issued_at: null,
        generation: 1,
      })
      const flow = await store.getFlowByStateHash(hashState('old-state'))
      expect(flow).toMatchObject({ id: 'fl_old', state_hash: hashState('old-state'), state_enc: null })
      expect(JSON.stringify(await sql`select * from flows`.execute(store.db))).not.toContain('old-state')
      expect(await store.migrate()).toEqual([])
    } finally {
      await store.close()
      await drop()
    }
  })
}

/**
 * A database as of 0011 (before connections recorded their requested scopes) with a connection:
 * after 0012-connection-requested-scopes the row is intact and its requested scopes are null
 * ("not recorded", never an empty list that would read as "asked for nothing"); the next grant
 * records them.
 */
export function itUpgradesTo0012RequestedScopes(openUnmigrated: () => Promise<{ store: KyselyStore; drop: () => Promise<void> }>): void {
  it('upgrades a database written before 0012-connection-requested-scopes without loss; old rows have them unrecorded', async () => {
    const { store, drop } = await openUnmigrated()
    try {
      await migrateTo(store.db, '0011-dashboard-sessions')
      await sql`insert into connections (id, user_id, provider_id, status, scopes, access_token_enc, refresh_token_enc, token_type, expires_at,
        refresh_token_expires_at, account_id, account_label, user_info, created_at, updated_at, last_used_at, last_refresh_at, last_refresh_error,
        refresh_failures, refresh_cooldown_until, refresh_lease_owner, refresh_lease_until, generation, token_issued_at, is_default)
        values ('cn_old', 'alice', 'github', 'active', '["repo"]', 'enc:a', 'enc:r', 'bearer', ${T0 + 3_600_000},
        ${T0 + 86_400_000}, 'acct', 'Alice', '{"login":"alice"}', ${T0}, ${T0 + 5}, ${T0 + 7}, ${T0 + 1}, null, 0, null, null, null, 2, ${T0}, 1)`.execute(
        store.db,
      )
      expect(await store.migrate()).toContain('0012-connection-requested-scopes')
      const old = {
        id: 'cn_old',
        user_id: 'alice',
        provider_id: 'github',
        status: 'active',
        scopes: ['repo'],
        requested_scopes: null,
        access_token_enc: 'enc:a',
        refresh_token_enc: 'enc:r',
        token_type: 'bearer',
        expires_at: T0 + 3_600_000,
        refresh_token_expires_at: T0 + 86_400_000,
        account_id: 'acct',
        account_label: 'Alice',
        user_info: { login: 'alice' },
        created_at: T0,
        updated_at: T0 + 5,
        last_used_at: T0 + 7,
        last_refresh_at: T0 + 1,
        last_refresh_error: null,
        refresh_failures: 0,
        refresh_cooldown_until: null,
        refresh_lease_owner: null,
        refresh_lease_until: null,
        generation: 2,
        token_issued_at: T0,
        is_default: 1,
      }
      expect(await store.getConnection('alice', 'github')).toEqual(old)
      expect(await store.getConnectionById('cn_old')).toEqual(old)
      // The next grant on it records what it asked for.
      const { flow } = await store.createOrReuseFlow(flowRow({ id: 'fl_new', user_id: 'alice', provider_id: 'github' }), T0)
      const regranted = await store.completeFlowWithConnection(
        flow.id,
        { user_id: 'alice', provider_id: 'github', account_id: 'acct' },
        (e) => connectionRow({ id: e!.id, account_id: 'acct', scopes: ['repo'], requested_scopes: ['repo', 'gist'] }),
      )
      expect(regranted).toMatchObject({ id: 'cn_old', scopes: ['repo'], requested_scopes: ['repo', 'gist'] })
      expect(await store.migrate()).toEqual([])
    } finally {
      await store.close()
      await drop()
    }
  })
}
