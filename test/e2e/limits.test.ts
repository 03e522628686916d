/**
 * Bounds on what one user or one client address can pile up, against a real server: pending
 * authorizations per user (429 TOO_MANY_PENDING_FLOWS, not retried by Arcade's SDKs), failed
 * API-key attempts per client address (429 RATE_LIMITED with retry-after; valid keys are not
 * counted, `trustProxy` decides which address is the client's), and the retention sweep that
 * deletes long-expired flows and old audit entries on its schedule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { auditEntry, flowRow } from '../storage/store.conformance.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

describe('pending authorizations per user', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ config: { maxPendingFlowsPerUser: 3 } })
  })
  afterAll(async () => h?.close())

  const authorize = (user: string, scopes: string[]) =>
    fetch(`${h.baseURL}/v1/auth/authorize`, {
      method: 'POST',
      headers: { authorization: h.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: user, auth_requirement: { provider_id: 'test-idp', oauth2: { scopes } } }),
    })

  it('refuses a user’s 4th pending authorization with 429 and x-should-retry: false; identical requests and other users still work', async () => {
    const ids: string[] = []
    for (const scope of ['openid', 'profile', 'email']) {
      const r = await authorize('piler', [scope])
      expect(r.status).toBe(200)
      ids.push(((await r.json()) as { id: string }).id)
    }
    const refused = await authorize('piler', ['offline_access'])
    expect(refused.status).toBe(429)
    expect(refused.headers.get('x-should-retry')).toBe('false')
    expect(await refused.json()).toEqual({ name: 'TOO_MANY_PENDING_FLOWS', message: expect.stringContaining('3 pending authorizations') })
    // Asking again for one of the pending ones shares it; another user is not affected.
    const again = await authorize('piler', ['profile'])
    expect(again.status).toBe(200)
    expect(((await again.json()) as { id: string }).id).toBe(ids[1])
    expect((await authorize('someone-else', ['offline_access'])).status).toBe(200)
  })
})

describe('failed API-key attempts per client address', () => {
  let proxied: Harness
  let direct: Harness
  beforeAll(async () => {
    proxied = await startHarness({ config: { authFailuresPerMinute: 3, trustProxy: true } })
    direct = await startHarness({ config: { authFailuresPerMinute: 3 } })
  })
  afterAll(async () => {
    await proxied?.close()
    await direct?.close()
  })

  const call = (h: Harness, key: string | undefined, from: string) =>
    fetch(`${h.baseURL}/v1/providers`, { headers: { ...(key === undefined ? {} : { authorization: key }), 'x-forwarded-for': from } })
  const wrongKey = (h: Harness) => h.apiKey.slice(0, -4) + (h.apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA')

  it('answers 429 with retry-after once an address has failed N times in a minute, without checking the key', async () => {
    expect((await call(proxied, proxied.apiKey, '10.0.0.9')).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await call(proxied, wrongKey(proxied), '10.0.0.1')).status).toBe(401)
    const limited = await call(proxied, wrongKey(proxied), '10.0.0.1')
    expect(limited.status).toBe(429)
    expect(await limited.json()).toEqual({ name: 'RATE_LIMITED', message: expect.stringContaining('failed API-key attempts') })
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // A missing key is a failed attempt too; a key never seen by this process is not checked either.
    expect((await call(proxied, undefined, '10.0.0.1')).status).toBe(429)
    const fresh = (await proxied.latchkey.apiKeys.create({ name: 'fresh', role: 'runtime' })).key
    expect((await call(proxied, fresh, '10.0.0.1')).status).toBe(429)
    // A key this process has verified before keeps working from the blocked address (a shared NAT),
    expect((await call(proxied, proxied.apiKey, '10.0.0.1')).status).toBe(200)
    // and other addresses are not affected.
    expect((await call(proxied, wrongKey(proxied), '10.0.0.2')).status).toBe(401)
    expect((await call(proxied, fresh, '10.0.0.2')).status).toBe(200)
  })

  it('does not count successful requests', async () => {
    for (let i = 0; i < 2; i++) expect((await call(proxied, wrongKey(proxied), '10.0.0.3')).status).toBe(401)
    for (let i = 0; i < 10; i++) expect((await call(proxied, proxied.apiKey, '10.0.0.3')).status).toBe(200)
    expect((await call(proxied, wrongKey(proxied), '10.0.0.3')).status).toBe(401)
    expect((await call(proxied, wrongKey(proxied), '10.0.0.3')).status).toBe(429)
  })

  it('ignores X-Forwarded-For unless trustProxy is set: every claimed address is the one peer', async () => {
    for (let i = 0; i < 3; i++) expect((await call(direct, wrongKey(direct), `10.1.0.${i}`)).status).toBe(401)
    expect((await call(direct, wrongKey(direct), '10.1.0.99')).status).toBe(429)
  })
})

describe('retention sweep', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ config: { retention: { flowHours: 24, auditDays: 90, sweepIntervalSeconds: 1 } } })
  })
  afterAll(async () => h?.close())

  it('deletes flows expired longer than the flow retention and audit entries older than the audit retention, on its schedule', async () => {
    const now = Date.now()
    const store = h.latchkey.store
    const longExpired = Array.from({ length: 3 }, (_, i) =>
      flowRow({ user_id: `gone-${i}`, created_at: now - 2 * DAY, expires_at: now - 25 * HOUR }),
    )
    const recentlyExpired = flowRow({ user_id: 'recent', created_at: now - 2 * HOUR, expires_at: now - HOUR })
    for (const f of [...longExpired, recentlyExpired]) await store.createOrReuseFlow(f, f.created_at)
    await store.appendAudit([auditEntry({ id: 'ancient', at: now - 91 * DAY }), auditEntry({ id: 'recent', at: now - 89 * DAY })])

    const auditIds = async () => (await store.listAudit({}, 100, 0)).items.map((e) => e.id)
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && ((await store.getFlow(longExpired[2]!.id)) !== undefined || (await auditIds()).includes('ancient'))) {
      await new Promise((r) => setTimeout(r, 100))
    }
    for (const f of longExpired) expect(await store.getFlow(f.id)).toBeUndefined()
    expect(await store.getFlow(recentlyExpired.id)).toBeDefined()
    const audit = await auditIds()
    expect(audit).toContain('recent')
    expect(audit).not.toContain('ancient')
  })
})
