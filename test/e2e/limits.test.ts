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
