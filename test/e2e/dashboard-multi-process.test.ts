/**
 * Dashboard sessions with two Latchkey processes on one PostgreSQL database: a sign-in on one
 * is accepted by the other, a sign-out on either ends it on both, and the overview's queries
 * (audit counts per hour, failures by provider and reason, flows by status) run on PostgreSQL.
 * Ports 21000–21999.
 */
import { randomUUID } from 'node:crypto'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Keyring } from '../../src/crypto/keyring.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { freePort } from '../helpers/ports.js'
import { createTestDatabase, describePostgres, type TestDatabase } from '../helpers/postgres.js'

describePostgres('dashboard sessions across processes on PostgreSQL', () => {
  let db: TestDatabase
  let a: Harness
  let b: Harness
  beforeAll(async () => {
    db = await createTestDatabase()
    const encryptionKeys = `1:${Keyring.generateKey()}`
    a = await startHarness({ port: await freePort(), databaseUrl: db.url, encryptionKeys })
    b = await startHarness({ port: await freePort(), databaseUrl: db.url, encryptionKeys })
  }, 60_000)
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await db?.drop()
  })

  const signIn = async (h: Harness) => {
    const r = await fetch(`${h.baseURL}/dashboard/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: h.baseURL },
      body: JSON.stringify({ api_key: a.apiKey }),
    })
    expect(r.status).toBe(201)
    const csrf = ((await r.json()) as { csrf_token: string }).csrf_token
    return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, csrf }
  }

  it('a session from one process works on the other; sign-out on the other ends it on both', async () => {
    const { cookie, csrf } = await signIn(a)
    const onB = await fetch(`${b.baseURL}/v1/admin/api_keys`, { headers: { cookie } })
    expect(onB.status).toBe(200)
    // A change on B with A's session: the CSRF token is the same everywhere (derived from the secret)
    const created = await fetch(`${b.baseURL}/v1/admin/api_keys`, {
      method: 'POST',
      headers: { cookie, 'x-latchkey-csrf': csrf, origin: b.baseURL, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from b', role: 'runtime' }),
    })
    // B's origin differs from A's (another port), and the session is the same: accepted for B's own origin
    expect(created.status).toBe(201)
    const out = await fetch(`${b.baseURL}/dashboard/session`, {
      method: 'DELETE',
      headers: { cookie, 'x-latchkey-csrf': csrf, origin: b.baseURL },
    })
    expect(out.status).toBe(204)
    expect((await fetch(`${a.baseURL}/v1/admin/api_keys`, { headers: { cookie } })).status).toBe(401)
    expect((await fetch(`${b.baseURL}/v1/admin/api_keys`, { headers: { cookie } })).status).toBe(401)
    await a.latchkey.ctx.audit.flush()
    await b.latchkey.ctx.audit.flush()
    const actions = (
      await a.latchkey.store.listAudit({ actor: `dashboard:${/^lk_([a-z0-9]{12})_/.exec(a.apiKey)![1]}` }, 100, 0)
    ).items.map((e) => e.action)
    expect(actions).toEqual(expect.arrayContaining(['dashboard.signed_in', 'api_key.created', 'dashboard.signed_out']))
  })

  it('serves the overview and the flow listing from PostgreSQL', async () => {
    const client = new Latchkey({ apiKey: a.apiKey, baseURL: a.baseURL, maxRetries: 0 })
    await client.auth.start('erin', 'test-idp', { scopes: ['openid'] })
    await a.latchkey.ctx.audit.flush()
    const now = Date.now()
    await a.latchkey.store.appendAudit(
      ['invalid_client', 'invalid_client', 'temporarily_unavailable'].map((error, i) => ({
        id: `t${randomUUID()}`,
        at: now - i * 1000,
        actor: null,
        action: 'connection.refresh_failed',
        user_id: 'erin',
        provider_id: 'test-idp',
        connection_id: null,
        detail: { kind: 'transient', error, failures: 1 },
      })),
    )
    const { cookie } = await signIn(b)
    const stats = (await (await fetch(`${b.baseURL}/v1/admin/stats?hours=3`, { headers: { cookie } })).json()) as {
      authorizations: Array<{ started: number }>
      refresh_failures: Array<{ provider_id: string; reason: string; count: number }>
      open_flows: number
    }
    expect(stats.authorizations).toHaveLength(3)
    expect(stats.authorizations.at(-1)!.started).toBeGreaterThanOrEqual(1)
    expect(stats.open_flows).toBe(1)
    expect(stats.refresh_failures).toEqual([
      expect.objectContaining({ provider_id: 'test-idp', reason: 'invalid_client', count: 2 }),
      expect.objectContaining({ provider_id: 'test-idp', reason: 'temporarily_unavailable', count: 1 }),
    ])
    const flows = (await (await fetch(`${b.baseURL}/v1/admin/flows?status=pending`, { headers: { cookie } })).json()) as {
      items: Array<{ user_id: string; requested_scopes: string[] }>
      total_count: number
    }
    expect(flows.total_count).toBe(1)
    expect(flows.items[0]).toMatchObject({ user_id: 'erin', requested_scopes: ['openid'] })
  })
})
