/**
 * Dashboard sessions and their principal (0013-dashboard-session-principal), on both databases:
 * an API-key session ends with its key, as it always did; a session of another principal (the
 * operator's own OIDC provider, which has no sign-in route yet) verifies without any key and is
 * audited with its own actor. The row's check constraint keeps a principal and its id together.
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { ApiKeys } from '../../src/broker/api-keys.js'
import { AuditLog } from '../../src/broker/audit.js'
import { DashboardSessions } from '../../src/broker/dashboard-sessions.js'
import { createLogger } from '../../src/log.js'
import { DashboardStore } from '../../src/storage/dashboard-store.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { migrateTo } from '../../src/storage/migrations.js'
import { eachFreshStore } from './store.conformance.js'

const SUBJECT = 'https://sso.example.com#operator-7'

function sessionsOn(store: KyselyStore) {
  const audit = new AuditLog(store, createLogger('silent'), { flushMs: 10_000 })
  const apiKeys = new ApiKeys(store)
  const sessions = new DashboardSessions(new DashboardStore(store.db), apiKeys, audit, { idleMinutes: 30, sessionHours: 12 })
  const entries = async (actor: string) => {
    await audit.flush()
    return (await store.listAudit({ actor }, 50, 0)).items.map((e) => ({ action: e.action, detail: e.detail }))
  }
  return { audit, apiKeys, sessions, entries }
}

export function describeDashboardSessions(name: string, open: () => Promise<KyselyStore>): void {
  describe(name, () => {
    let store!: KyselyStore
    eachFreshStore(open, (s) => {
      store = s
    })

    it('a session of a non-key principal (OIDC) verifies without any key and is audited with its own actor', async () => {
      const { sessions, entries } = sessionsOn(store)
      const { secret, session } = await sessions.open({ kind: 'oidc', subject: SUBJECT })
      const actor = `dashboard:oidc:${SUBJECT}`
      expect(session).toMatchObject({ principal: 'oidc', keyId: null, actor })
      const verified = await sessions.verify(secret)
      expect(verified).toMatchObject({ id: session.id, principal: 'oidc', keyId: null, actor, csrf: session.csrf })
      expect(sessions.csrfMatches(verified, session.csrf)).toBe(true)
      // Revoking every API key there is does not touch it: it has none.
      const { apiKeys } = sessionsOn(store)
      for (const k of await store.listApiKeys()) await apiKeys.revoke(k.id)
      await expect(sessions.verify(secret)).resolves.toMatchObject({ actor })
      await sessions.signOut(verified)
      await expect(sessions.verify(secret)).rejects.toThrow('not signed in to the dashboard')
      expect(await entries(actor)).toEqual([
        { action: 'dashboard.signed_out', detail: { method: 'oidc' } },
        { action: 'dashboard.signed_in', detail: { method: 'oidc' } },
      ])
      const [row] = (
        await sql<{ principal: string; key_id: string | null; subject: string | null }>`
        select principal, key_id, subject from dashboard_sessions where id = ${session.id}`.execute(store.db)
      ).rows
      expect(row).toEqual({ principal: 'oidc', key_id: null, subject: SUBJECT })
    })

    it('an API-key session behaves as before: actor dashboard:<key id>, ended by revoking the key', async () => {
      const { sessions, apiKeys, entries } = sessionsOn(store)
      const admin = await apiKeys.create({ name: 'operator', role: 'admin' })
      const { secret, session } = await sessions.signIn(admin.key)
      expect(session).toMatchObject({ principal: 'api_key', keyId: admin.row.id, actor: `dashboard:${admin.row.id}` })
      await expect(sessions.verify(secret)).resolves.toMatchObject({ principal: 'api_key', keyId: admin.row.id })
      await apiKeys.revoke(admin.row.id)
      await expect(sessions.verify(secret)).rejects.toThrow(/revoked or has expired/)
      expect(await entries(`dashboard:${admin.row.id}`)).toEqual([
        { action: 'dashboard.signed_in', detail: { method: 'api_key', key_id: admin.row.id } },
      ])
      // A runtime key cannot sign in.
      const runtime = await apiKeys.create({ name: 'app', role: 'runtime' })
      await expect(sessions.signIn(runtime.key)).rejects.toThrow('the dashboard needs an admin API key')
    })

    it('refuses a row whose principal and id disagree', async () => {
      const insert = (principal: string, keyId: string | null, subject: string | null) =>
        sql`insert into dashboard_sessions (id, principal, key_id, subject, created_at, last_seen_at, expires_at)
          values (${`s-${Math.random()}`}, ${principal}, ${keyId}, ${subject}, 1, 1, 2)`.execute(store.db)
      await expect(insert('api_key', null, null)).rejects.toThrow()
      await expect(insert('oidc', null, null)).rejects.toThrow()
      await expect(insert('oidc', 'key1', SUBJECT)).rejects.toThrow()
      await expect(insert('api_key', 'key1', SUBJECT)).rejects.toThrow()
      await expect(insert('nobody', null, SUBJECT)).rejects.toThrow()
    })
  })
}

/** A session signed in before 0013 is an API-key session afterwards, and still ends with its key. */
export function itUpgradesTo0013SessionPrincipal(openUnmigrated: () => Promise<{ store: KyselyStore; drop: () => Promise<void> }>): void {
  it('upgrades dashboard sessions written before 0013-dashboard-session-principal: they stay API-key sessions', async () => {
    const { store, drop } = await openUnmigrated()
    try {
      await migrateTo(store.db, '0012-connection-requested-scopes')
      const { sessions, apiKeys } = sessionsOn(store)
      const admin = await apiKeys.create({ name: 'operator', role: 'admin' })
      // Signed in by the old code: the row as 0011 wrote it.
      const secret = 'A'.repeat(43)
      const { createHash } = await import('node:crypto')
      const id = createHash('sha256').update(secret).digest('hex')
      const now = Date.now()
      await sql`insert into dashboard_sessions (id, key_id, created_at, last_seen_at, expires_at)
        values (${id}, ${admin.row.id}, ${now}, ${now}, ${now + 3_600_000})`.execute(store.db)
      expect(await store.migrate()).toContain('0013-dashboard-session-principal')
      await expect(sessions.verify(secret)).resolves.toMatchObject({
        principal: 'api_key',
        keyId: admin.row.id,
        actor: `dashboard:${admin.row.id}`,
      })
      await apiKeys.revoke(admin.row.id)
      await expect(sessions.verify(secret)).rejects.toThrow(/revoked or has expired/)
      expect(await store.migrate()).toEqual([])
    } finally {
      await store.close()
      await drop()
    }
  })
}
