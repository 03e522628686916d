/**
 * Several accounts per user and provider (0010-accounts), on both databases: which connection a
 * grant writes, the default connection, promotion when the default is deleted, and the upgrade
 * of a database written before it (whose (user, provider) uniqueness is dropped without loss).
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { migrateTo } from '../../src/storage/migrations.js'
import type { ConnectionRow, ConnectionTarget, StoreEvent } from '../../src/storage/store.js'
import { connectionRow, eachFreshStore, flowRow, T0 } from './store.conformance.js'

let seq = 0

/** Completes a new flow with a grant for `account` (null: the provider did not say who). */
async function grant(
  store: KyselyStore,
  account: string | null,
  target: Partial<ConnectionTarget> = {},
  over: Partial<ConnectionRow> = {},
): Promise<{ stored: ConnectionRow; existing: ConnectionRow | undefined }> {
  const n = ++seq
  const { flow } = await store.createOrReuseFlow(flowRow({ id: `acc-flow-${n}`, scope_key: `acc ${n}` }), T0)
  let existing: ConnectionRow | undefined
  const stored = await store.completeFlowWithConnection(
    flow.id,
    { user_id: 'alice', provider_id: 'google', account_id: account, ...target },
    (e) => {
      existing = e
      const base = connectionRow({
        id: `acc-conn-${n}`,
        user_id: 'alice',
        provider_id: 'google',
        account_id: account,
        updated_at: T0 + n,
        ...over,
      })
      return e ? { ...base, id: e.id, created_at: e.created_at } : base
    },
  )
  return { stored, existing }
}

export function describeAccountsConformance(name: string, open: () => Promise<KyselyStore>): void {
  describe(name, () => {
    let store!: KyselyStore
    eachFreshStore(open, (s) => {
      store = s
    })

    it('keeps two accounts side by side; the first is the default until a flow without selector grants another', async () => {
      const work = (await grant(store, 'work')).stored
      const personal = (await grant(store, 'personal', { make_default: false })).stored
      expect(personal.id).not.toBe(work.id)
      expect(work.is_default).toBe(1)
      expect(personal.is_default).toBe(0)
      expect((await store.getConnection('alice', 'google'))!.id).toBe(work.id)
      expect((await store.listConnections({ user_id: 'alice', provider_id: 'google' }, 10, 0)).total).toBe(2)

      // A flow without selector, consented with the personal account: it updates that one and makes it the default.
      const events: StoreEvent[] = []
      store.subscribe((e) => events.push(e))
      const again = await grant(store, 'personal')
      expect(again.existing?.id).toBe(personal.id)
      expect(again.stored).toMatchObject({ id: personal.id, is_default: 1 })
      expect((await store.getConnection('alice', 'google'))!.id).toBe(personal.id)
      expect((await store.getConnectionById(work.id))!.is_default).toBe(0)
      // The demoted default's cached row is dropped too.
      expect(events).toContainEqual({ channel: 'connection', id: work.id })
      expect((await store.listConnections({ user_id: 'alice', provider_id: 'google' }, 10, 0)).total).toBe(2)
    })

    it('re-consent with a connected account updates it instead of adding a duplicate, even through a selector for another', async () => {
      const work = (await grant(store, 'work')).stored
      const personal = (await grant(store, 'personal', { make_default: false })).stored
      const again = await grant(store, 'work', { connection_id: personal.id, make_default: false })
      expect(again.stored.id).toBe(work.id)
      expect((await store.listConnections({ user_id: 'alice' }, 10, 0)).total).toBe(2)
    })

    it('takes over a target whose account is unknown, never one of another account', async () => {
      const anon = (await grant(store, null)).stored
      // The provider did not say who before; now it does: the same (default) connection.
      const named = await grant(store, 'work')
      expect(named.stored.id).toBe(anon.id)
      expect(named.stored.account_id).toBe('work')
      // A selector flow for that connection consented with another account adds one.
      const other = await grant(store, 'personal', { connection_id: anon.id, make_default: false })
      expect(other.existing).toBeUndefined()
      expect(other.stored.is_default).toBe(0)
    })

    it('promotes the most recently granted remaining connection when the default is deleted', async () => {
      const a = (await grant(store, 'a')).stored
      const b = (await grant(store, 'b', { make_default: false })).stored
      const c = (await grant(store, 'c', { make_default: false })).stored
      expect(await store.deleteConnection(b.id)).toBe(true)
      expect((await store.getConnection('alice', 'google'))!.id).toBe(a.id)
      expect(await store.deleteConnection(a.id)).toBe(true)
      expect((await store.getConnection('alice', 'google'))!.id).toBe(c.id)
      expect(await store.deleteConnection(c.id)).toBe(true)
      expect(await store.getConnection('alice', 'google')).toBeUndefined()
      // And a later first connection is the default again.
      expect((await grant(store, 'd', { make_default: false })).stored.is_default).toBe(1)
    })

    it('refuses a second connection of the same provider account (unique index), so a race cannot duplicate it', async () => {
      await grant(store, 'work')
      await expect(
        sql`insert into connections (id, user_id, provider_id, status, scopes, access_token_enc, created_at, updated_at, account_id, is_default)
          values ('dup', 'alice', 'google', 'active', '[]', 'enc:x', ${T0}, ${T0}, 'work', 0)`.execute(store.db),
      ).rejects.toThrow()
    })
  })
}

/**
 * A database built up to 0007 (the last migration before 0010-accounts) with a connection and a
 * pending flow: after the upgrade the connection is intact and the default, and a second account
 * can be added next to it.
 */
export function itUpgradesTo0010Accounts(openUnmigrated: () => Promise<{ store: KyselyStore; drop: () => Promise<void> }>): void {
  it('upgrades a database written before 0010-accounts without loss; its connections become the defaults', async () => {
    const { store, drop } = await openUnmigrated()
    try {
      await migrateTo(store.db, '0007-flows-one-unopened')
      await sql`insert into connections (id, user_id, provider_id, status, scopes, access_token_enc, refresh_token_enc, token_type, expires_at,
        refresh_token_expires_at, account_id, account_label, user_info, created_at, updated_at, last_used_at, last_refresh_at, last_refresh_error,
        refresh_failures, refresh_cooldown_until, refresh_lease_owner, refresh_lease_until, generation, token_issued_at)
        values ('cn_old', 'alice', 'google', 'active', '["email"]', 'enc:a', 'enc:r', 'bearer', ${T0 + 3_600_000},
        null, 'work', 'alice@work.test', '{"email":"alice@work.test"}', ${T0}, ${T0 + 5}, ${T0 + 7}, null, null, 2, null, null, null, 3, ${T0}),
        ('cn_other', 'bob', 'google', 'reauth_required', '[]', 'enc:b', null, null, null,
        null, null, null, null, ${T0}, ${T0}, null, null, 'invalid_grant', 0, null, null, null, 0, null)`.execute(store.db)
      await sql`insert into flows (id, state_hash, state_enc, user_id, provider_id, scopes, requested_scopes, scope_key, redirect_uri, status, created_at, expires_at)
        values ('ac_old', 'h', 'enc:s', 'carol', 'google', '[]', '[]', '', 'http://127.0.0.1/oauth/callback', 'pending', ${T0}, ${T0 + 600_000})`.execute(
        store.db,
      )
      expect(await store.migrate()).toContain('0010-accounts')
      expect(await store.getConnection('alice', 'google')).toEqual({
        id: 'cn_old',
        user_id: 'alice',
        provider_id: 'google',
        status: 'active',
        scopes: ['email'],
        // Not recorded before 0012-connection-requested-scopes.
        requested_scopes: null,
        access_token_enc: 'enc:a',
        refresh_token_enc: 'enc:r',
        token_type: 'bearer',
        expires_at: T0 + 3_600_000,
        refresh_token_expires_at: null,
        account_id: 'work',
        account_label: 'alice@work.test',
        user_info: { email: 'alice@work.test' },
        created_at: T0,
        updated_at: T0 + 5,
        last_used_at: T0 + 7,
        last_refresh_at: null,
        last_refresh_error: null,
        refresh_failures: 2,
        refresh_cooldown_until: null,
        refresh_lease_owner: null,
        refresh_lease_until: null,
        generation: 3,
        token_issued_at: T0,
        is_default: 1,
      })
      expect(await store.getConnection('bob', 'google')).toMatchObject({ id: 'cn_other', status: 'reauth_required', is_default: 1 })
      expect(await store.getFlow('ac_old')).toMatchObject({ user_id: 'carol', account_hint: null, connection_target: null })
      // The refresh sweep's index survived the SQLite rebuild: the due connection is listed.
      expect((await store.listConnectionsToRefresh(T0 + 4_000_000, T0 + 3_000_000, 10)).map((c) => c.id)).toEqual(['cn_old'])
      // A second account next to the upgraded one.
      const { flow } = await store.createOrReuseFlow(flowRow({ id: 'ac_new', user_id: 'alice', provider_id: 'google', scope_key: 'x' }), T0)
      const personal = await store.completeFlowWithConnection(
        flow.id,
        { user_id: 'alice', provider_id: 'google', account_id: 'personal', make_default: false },
        () => connectionRow({ id: 'cn_new', user_id: 'alice', provider_id: 'google', account_id: 'personal' }),
      )
      expect(personal.is_default).toBe(0)
      expect((await store.getConnection('alice', 'google'))!.id).toBe('cn_old')
      expect(await store.migrate()).toEqual([])
    } finally {
      await store.close()
      await drop()
    }
  })
}
