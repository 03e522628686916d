/**
 * Review findings on the admin dashboard, each checked at the HTTP level against a real
 * Latchkey: a session is rate-limited as the API key it was signed in with. Ports 27000–27999.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/latchkey.js'

const port = () => 27_000 + Math.floor(Math.random() * 1000)

async function signIn(h: Harness, key = h.apiKey): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${h.baseURL}/dashboard/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: h.baseURL },
    body: JSON.stringify({ api_key: key }),
  })
  expect(r.status).toBe(201)
  return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await r.json()) as { csrf_token: string }).csrf_token }
}

describe('dashboard session rate limit', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ port: port(), env: { LATCHKEY_RATE_LIMIT_PER_MINUTE: '4' } })
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
