/**
 * Review findings on the admin dashboard, each checked at the HTTP level against a real
 * Latchkey: a session is rate-limited as the API key it was signed in with; what it fetches is
 * nosniff and same-origin only; "refresh now" says
 * `refreshed` only when there is a new token. Ports 27000–27999.
 */
import { Latchkey } from '@latchkey/client'
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { freePort } from '../helpers/ports.js'

async function signIn(h: Harness, key = h.apiKey, previous?: string): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${h.baseURL}/dashboard/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: h.baseURL, ...(previous ? { cookie: previous } : {}) },
    body: JSON.stringify({ api_key: key }),
  })
  expect(r.status).toBe(201)
  return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await r.json()) as { csrf_token: string }).csrf_token }
}

describe('dashboard session rate limit', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ port: await freePort(), env: { LATCHKEY_RATE_LIMIT_PER_MINUTE: '4' } })
  })
  afterAll(async () => h?.close())

  it('counts requests made with a session against its API key: signing in adds no second allowance', async () => {
    const { cookie } = await signIn(h)
    const withKey = () => fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { authorization: h.apiKey } })
    const withCookie = () => fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { cookie } })
    expect((await withKey()).status).toBe(200)
    expect((await withKey()).status).toBe(200)
    expect((await withCookie()).status).toBe(200)
    expect((await withCookie()).status).toBe(200)
    // The key's 4 per minute are used up, by either means
    const over = await withCookie()
    expect(over.status).toBe(429)
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/)
    expect((await withKey()).status).toBe(429)
  })
})

describe('responses to the session cookie', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ port: await freePort() })
  })
  afterAll(async () => h?.close())

  it('are nosniff and same-origin only (the CSV export, the JSON API)', async () => {
    const { cookie } = await signIn(h)
    for (const path of ['/v1/admin/audit/export?format=csv', '/v1/admin/audit/export?format=json', '/v1/admin/stats']) {
      const r = await fetch(`${h.baseURL}${path}`, { headers: { cookie } })
      expect(r.status, path).toBe(200)
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(r.headers.get('cross-origin-resource-policy'), path).toBe('same-origin')
    }
    const csv = await fetch(`${h.baseURL}/v1/admin/audit/export?format=csv`, { headers: { cookie } })
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="latchkey-audit-[0-9T-]+\.csv"$/)
  })

  it('a sign-in in a browser that holds a session ends that session (audited), the new one works', async () => {
    const first = await signIn(h)
    const second = await signIn(h, h.apiKey, first.cookie)
    expect(second.cookie).not.toBe(first.cookie)
    expect((await fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { cookie: first.cookie } })).status).toBe(401)
    expect((await fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { cookie: second.cookie } })).status).toBe(200)
    await h.latchkey.ctx.audit.flush()
    const ended = (await h.latchkey.store.listAudit({ action: 'dashboard.signed_out' }, 10, 0)).items
    expect(ended.map((e) => e.detail)).toContainEqual(expect.objectContaining({ reason: 'replaced' }))
    // A stale or foreign value in the cookie does not stop a sign-in
    expect((await signIn(h, h.apiKey, 'latchkey_dashboard=not-a-session')).cookie).toMatch(/^latchkey_dashboard=/)
  })
})

describe('refresh now', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ port: await freePort() })
  }, 60_000)
  afterAll(async () => h?.close())

  it('answers not_refreshed (not refreshed) when there is nothing to refresh with, and keeps the token', async () => {
    const client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
    const started = await client.auth.start('erin', 'test-idp', { scopes: ['openid', 'offline_access'] })
    await new TestBrowser().authorize(started.url!, { login: 'erin' })
    await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    const before = (await h.latchkey.store.getConnection('erin', 'test-idp'))!
    // A connection without a refresh token (a provider that issues none)
    const db = h.latchkey.store.db as unknown as Kysely<{ connections: { id: string; refresh_token_enc: string | null } }>
    await db.updateTable('connections').set({ refresh_token_enc: null }).where('id', '=', before.id).execute()
    const { cookie, csrf } = await signIn(h)
    const r = await fetch(`${h.baseURL}/v1/admin/user_connections/${before.id}/refresh`, {
      method: 'POST',
      headers: { cookie, 'x-latchkey-csrf': csrf, origin: h.baseURL },
    })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { outcome: string; error: string | null }
    expect(body.outcome).toBe('not_refreshed')
    expect(body.error).toMatch(/not refreshed/)
    const after = (await h.latchkey.store.getConnectionById(before.id))!
    expect(after.access_token_enc).toBe(before.access_token_enc)
  }, 30_000)
})
