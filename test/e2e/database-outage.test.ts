/**
 * A real PostgreSQL outage: the test's own cluster (test/helpers/pg-cluster.ts) is stopped with
 * `pg_ctl stop -m fast` under a running Latchkey and started again. While it is down, requests
 * that need the database answer 503 UNAVAILABLE with retry headers (not 500), the outage is
 * logged once, a connected user keeps getting tokens from memory, and every hand-out is audited
 * once the database is back. The LISTEN/NOTIFY connection comes back by itself.
 */

import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { type PgCluster, pgClusterAvailable, startPgCluster } from '../helpers/pg-cluster.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.runIf(pgClusterAvailable())('PostgreSQL stopped and started under a running Latchkey', () => {
  let cluster: PgCluster
  let h: Harness
  let client: Latchkey

  beforeAll(async () => {
    cluster = await startPgCluster()
    h = await startHarness({ databaseUrl: cluster.url, env: { LATCHKEY_VERIFICATION: 'skip' } })
    client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
    const started = await client.auth.start('alice', 'test-idp', { scopes: ['openid', 'offline_access'] })
    await new TestBrowser().authorize(started.url!, { login: 'alice' })
    const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    expect(done.status).toBe('completed')
  }, 60_000)

  afterAll(async () => {
    await h?.close()
    await cluster?.destroy()
  })

  const post = (path: string, body: unknown) =>
    fetch(`${h.baseURL}${path}`, {
      method: 'POST',
      headers: { authorization: h.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const authorizeBody = (user: string) => ({ user_id: user, auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } } })
  const logLines = (pattern: RegExp) => h.logs.filter((l) => pattern.test(l))

  it('answers 503 with retry headers, logs the outage twice, serves cached tokens, audits every hand-out', async () => {
    const store = h.latchkey.store as KyselyStore
    await h.latchkey.ctx.audit.flush()
    const issuedBefore = await countIssued(store)
    const logsBefore = h.logs.length
    // Warm the connection and API-key caches, then take the database away.
    expect((await (await post('/v1/auth/authorize', authorizeBody('alice'))).json()).status).toBe('completed')
    await cluster.stop()

    // Something that needs the database: a new user's flow. 503, Arcade's shape, retry hints.
    const r = await post('/v1/auth/authorize', authorizeBody('bob'))
    expect(r.status).toBe(503)
    const body = (await r.json()) as { name: string; message: string }
    expect(body.name).toBe('UNAVAILABLE')
    expect(body.message).toMatch(/database is unavailable/)
    expect(r.headers.get('retry-after')).toBe('2')
    expect(r.headers.get('retry-after-ms')).toBe('2000')
    expect(r.headers.get('x-should-retry')).toBe('true')
    const health = await fetch(`${h.baseURL}/v1/health`)
    expect(health.status).toBe(503)
    expect((await fetch(`${h.baseURL}/v1/health/ready`)).status).toBe(503)
    expect((await fetch(`${h.baseURL}/v1/health/live`)).status).toBe(200)

    // The connected user is served from memory throughout, also past the caches' TTLs (2 s, 5 s).
    let handedOut = 1
    const until = Date.now() + 6500
    let i = 0
    while (Date.now() < until) {
      const res = await post('/v1/auth/authorize', authorizeBody('alice'))
      expect(res.status, await res.clone().text()).toBe(200)
      expect(((await res.json()) as { status: string }).status).toBe('completed')
      handedOut++
      if (i++ % 5 === 0) expect((await post('/v1/auth/authorize', authorizeBody(`new-${i}`))).status).toBe(503)
      await sleep(20)
    }

    // Many failing requests, one outage line; no 500s, no stack trace per request.
    const during = h.logs.slice(logsBefore)
    expect(during.filter((l) => /database unavailable/.test(l))).toHaveLength(1)
    expect(during.filter((l) => /unexpected error|"stack"/.test(l))).toEqual([])

    await cluster.start()
    // The next database call ends the outage (the audit retry makes one within 5 s).
    for (let t = 0; t < 100 && logLines(/database available again after/).length === 0; t++) await sleep(100)
    expect(logLines(/database available again after/)).toHaveLength(1)
    expect((await post('/v1/auth/authorize', authorizeBody('bob'))).status).toBe(200)

    // Every hand-out during the outage is in the audit table.
    await h.latchkey.ctx.audit.flush()
    for (let t = 0; t < 100 && (await countIssued(store)) - issuedBefore < handedOut; t++) await sleep(100)
    expect((await countIssued(store)) - issuedBefore).toBe(handedOut)
    expect(h.latchkey.ctx.audit.pending).toBe(0)

    // The LISTEN connection is back: a change on another connection reaches this process.
    for (let t = 0; t < 100 && !(store.eventBridge as unknown as { listening: boolean }).listening; t++) await sleep(100)
    expect((store.eventBridge as unknown as { listening: boolean }).listening).toBe(true)
  }, 60_000)

  it('does not hang a long-poll during an outage: it answers 503 once the database fails', async () => {
    const started = await client.auth.start('carol', 'test-idp', { scopes: ['openid'] })
    await cluster.stop()
    try {
      const t0 = Date.now()
      const r = await fetch(`${h.baseURL}/v1/auth/status?id=${started.id}&wait=30`, { headers: { authorization: h.apiKey } })
      expect(r.status).toBe(503)
      expect(Date.now() - t0).toBeLessThan(10_000)
    } finally {
      await cluster.start()
    }
  }, 30_000)
})

/** Hand-outs recorded in the audit table (`token.issued` rows aggregate hand-outs in `detail.count`). */
async function countIssued(store: KyselyStore): Promise<number> {
  const rows = await store.db.selectFrom('audit_log').select('detail').where('action', '=', 'token.issued').execute()
  return rows.reduce((n, r) => n + ((r.detail && (JSON.parse(r.detail) as { count?: number }).count) || 1), 0)
}
