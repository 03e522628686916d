/**
 * `/metrics` against a real server: every series the README's example alert rules name is in a
 * real scrape (so a rule cannot reference a metric that is not there); request durations are
 * labelled by route pattern and status class, never the raw URL; the store-backed gauges count
 * what is in the database; database errors and the PostgreSQL pool are reported; and where the
 * endpoint is served (public port in development, a listener of its own, a bearer token, and
 * nowhere in production when neither is configured).
 */
import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { freePort } from '../helpers/ports.js'
import { createTestDatabase, describePostgres, type TestDatabase } from '../helpers/postgres.js'
import { connectionRow, flowRow } from '../storage/store.conformance.js'

const TOKEN = 'metrics-token-0123456789'

/** The metric names the README's alert rules use (the yaml block with `alert:` entries). */
function alertRuleMetricNames(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const block = /```yaml\n(groups:[\s\S]*?)```/.exec(readme)?.[1]
  expect(block, 'README has an alert rules block').toBeDefined()
  const exprs = [...block!.matchAll(/expr: (.*)/g)].map((m) => m[1]!)
  return [...new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:latchkey|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)))]
}

/** Names with a `# TYPE` line, histogram sample suffixes included. */
function scrapedNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!)
    if (m[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m[1]}${suffix}`)
  }
  return names
}

const sample = (text: string, name: string, labels = ''): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('metrics in development (public port, no token)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h?.close())

  it('has every series the README alert rules use, route-pattern labels, and store-backed gauges', async () => {
    const auth = { authorization: h.apiKey, 'content-type': 'application/json' }
    // Two pending flows, one connection of each status.
    for (const user of ['m1', 'm2']) {
      const r = await fetch(`${h.baseURL}/v1/auth/authorize`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ user_id: user, auth_requirement: { provider_id: 'test-idp' } }),
      })
      expect(r.status).toBe(200)
    }
    for (const status of ['active', 'reauth_required', 'reauth_required'] as const) {
      const flow = flowRow({ user_id: `conn-${Math.random()}`, provider_id: 'test-idp', expires_at: Date.now() - 1 })
      await h.latchkey.store.createOrReuseFlow(flow, Date.now() - 10_000)
      await h.latchkey.store.completeFlowWithConnection(flow.id, { user_id: flow.user_id, provider_id: 'test-idp' }, () =>
        connectionRow({ user_id: flow.user_id, provider_id: 'test-idp', status }),
      )
    }
    expect((await fetch(`${h.baseURL}/oauth/authorize/ac_secretlookingid123`)).status).toBe(404)
    expect((await fetch(`${h.baseURL}/v1/auth/status?id=ac_rawid456`, { headers: auth })).status).toBe(404)
    expect((await fetch(`${h.baseURL}/no/such/path/xyz789`)).status).toBe(404)
    // A failing query is a database error.
    await sql`select * from no_such_table`.execute(h.latchkey.store.db).catch(() => {})

    const r = await fetch(`${h.baseURL}/metrics`)
    expect(r.status).toBe(200)
    const text = await r.text()
    const names = scrapedNames(text)
    const referenced = alertRuleMetricNames()
    expect(referenced.length).toBeGreaterThanOrEqual(6)
    // The pool series exists on PostgreSQL only (checked below).
    for (const name of referenced.filter((n) => !n.startsWith('latchkey_db_pool_'))) expect(names, name).toContain(name)

    expect(sample(text, 'latchkey_http_request_duration_seconds_count', '{route="/oauth/authorize/:id",status_class="4xx"}')).toBe(1)
    expect(sample(text, 'latchkey_http_request_duration_seconds_count', '{route="/v1/auth/status",status_class="4xx"}')).toBe(1)
    expect(sample(text, 'latchkey_http_request_duration_seconds_count', '{route="unmatched",status_class="4xx"}')).toBe(1)
    expect(sample(text, 'latchkey_http_request_duration_seconds_count', '{route="/v1/auth/authorize",status_class="2xx"}')).toBe(2)
    expect(sample(text, 'latchkey_http_request_duration_seconds_bucket', '{route="/v1/auth/authorize",status_class="2xx",le="+Inf"}')).toBe(
      2,
    )
    for (const raw of ['ac_secretlookingid123', 'ac_rawid456', 'xyz789', 'm1', 'm2']) expect(text).not.toContain(raw)

    expect(sample(text, 'latchkey_authorizations_total', '{provider="test-idp",result="started"}')).toBe(2)
    expect(sample(text, 'latchkey_pending_flows')).toBe(2)
    expect(sample(text, 'latchkey_connections', '{status="active"}')).toBe(1)
    expect(sample(text, 'latchkey_connections', '{status="reauth_required"}')).toBe(2)
    expect(sample(text, 'latchkey_connections', '{status="revoked"}')).toBe(0)
    expect(sample(text, 'latchkey_db_errors_total')).toBe(1)
    expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toEqual(expect.any(Number))
  })
})

describePostgres('metrics on PostgreSQL', () => {
  let db: TestDatabase
  let h: Harness
  beforeAll(async () => {
    db = await createTestDatabase()
    h = await startHarness({ databaseUrl: db.url, config: { databasePoolSize: 7 } })
  })
  afterAll(async () => {
    await h?.close()
    await db?.drop()
  })

  it('reports the pool (max, total, idle, waiting) and database errors', async () => {
    await sql`select * from no_such_table`.execute(h.latchkey.store.db).catch(() => {})
    const text = await (await fetch(`${h.baseURL}/metrics`)).text()
    expect(sample(text, 'latchkey_db_pool_clients', '{state="max"}')).toBe(7)
    expect(sample(text, 'latchkey_db_pool_clients', '{state="total"}')).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'latchkey_db_pool_clients', '{state="waiting"}')).toBe(0)
    expect(sample(text, 'latchkey_db_errors_total')).toBe(1)
    for (const name of alertRuleMetricNames()) expect(scrapedNames(text), name).toContain(name)
  })
})

describe('where /metrics is served', () => {
  const started: Harness[] = []
  afterAll(async () => {
    for (const h of started) await h.close()
  })
  const start = async (env: Record<string, string>, config: Parameters<typeof startHarness>[0] = {}) => {
    const h = await startHarness({ env, ...config })
    started.push(h)
    return h
  }

  it('is not served in production without a listener or a token, with a start warning', async () => {
    const h = await start({ NODE_ENV: 'production' })
    expect((await fetch(`${h.baseURL}/metrics`)).status).toBe(404)
    expect(h.latchkey.warnings.join('\n')).toContain('/metrics is not served')
  })

  it('needs the bearer token when one is configured', async () => {
    const h = await start({ NODE_ENV: 'production', LATCHKEY_METRICS_TOKEN: TOKEN })
    expect(h.latchkey.warnings.join('\n')).not.toContain('/metrics')
    const none = await fetch(`${h.baseURL}/metrics`)
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({ name: 'UNAUTHENTICATED', message: expect.any(String) })
    expect((await fetch(`${h.baseURL}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401)
    const ok = await fetch(`${h.baseURL}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('latchkey_authorize_total')
  })

  it('moves to its own listener when one is configured (and the token applies there)', async () => {
    const port = await freePort()
    const h = await start({ NODE_ENV: 'production', LATCHKEY_METRICS_LISTEN: `127.0.0.1:${port}`, LATCHKEY_METRICS_TOKEN: TOKEN })
    expect((await fetch(`${h.baseURL}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401)
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toContain('text/plain')
    expect(await ok.text()).toContain('latchkey_http_request_duration_seconds')
    expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).status).toBe(404)
  })
})
