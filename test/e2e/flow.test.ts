/**
 * The whole authorization flow against a real OAuth server (oidc-provider on 127.0.0.1):
 * start → the user clicks through sign-in and consent → callback → waitForCompletion returns a
 * token the provider's userinfo endpoint accepts; then the token path for a connected user.
 */

import { AuthenticationError, AuthorizationFailedError, Latchkey, NotFoundError } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

let h: Harness
let client: Latchkey

beforeAll(async () => {
  h = await startHarness({ idp: { scopes: ['files.read', 'files.write'] } })
  client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL })
})
afterAll(async () => h?.close())

async function userinfo(token: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${h.idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })
  expect(r.status).toBe(200)
  return (await r.json()) as Record<string, unknown>
}

describe('authorization flow', () => {
  it('grants a token through the provider, then answers completed at once', async () => {
    const started = await client.auth.start('alice@example.com', 'test-idp', { scopes: ['openid', 'profile'] })
    expect(started.status).toBe('pending')
    expect(started.url).toMatch(new RegExp(`^${h.baseURL}/oauth/authorize/ac_`))

    const waiting = client.auth.waitForCompletion(started, { timeoutMs: 20_000 })
    const browser = new TestBrowser()
    const page = await browser.authorize(started.url!, { login: 'alice' })
    expect(page.status).toBe(200)
    expect(page.body).toContain('Connected')
    // The provider was sent PKCE S256 and state.
    // Latchkey's Continue page first (a GET binds nothing), then the redirect to the provider.
    expect(browser.steps[0]!.status).toBe(200)
    expect(browser.steps[0]!.body).toContain('Continue to')
    const toIdp = new URL(browser.steps[1]!.location!)
    expect(toIdp.origin).toBe(h.idp.issuer)
    expect(toIdp.searchParams.get('code_challenge_method')).toBe('S256')
    expect(toIdp.searchParams.get('state')).toHaveLength(43)

    const done = await waiting
    expect(done.status).toBe('completed')
    expect(done.context?.token).toBeTruthy()
    expect(done.context?.user_info?.['sub']).toBe('alice')
    expect((await userinfo(done.context!.token!))['sub']).toBe('alice')

    const again = await client.auth.start('alice@example.com', 'test-idp', { scopes: ['openid'] })
    expect(again.status).toBe('completed')
    expect(again.url).toBeUndefined()
    expect(again.context?.token).toBe(done.context?.token)
    expect(again.scopes).toEqual(expect.arrayContaining(['openid', 'profile']))
  })

  it('answers a connected user from memory exactly as from the database, counts it, and sees writes at once', async () => {
    const authorize = async () => {
      const r = await fetch(`${h.baseURL}/v1/auth/authorize`, {
        method: 'POST',
        headers: { authorization: h.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({
          user_id: 'alice@example.com',
          auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } },
        }),
      })
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(r.headers.get('cache-control')).toBe('no-store')
      return (await r.json()) as Record<string, unknown> & { id: string; context: { user_info: Record<string, unknown> } }
    }
    const completed = async () => {
      const text = await (await fetch(`${h.baseURL}/metrics`)).text()
      return Number(/^latchkey_authorize_total\{provider="test-idp",outcome="completed"\} (\d+)$/m.exec(text)?.[1] ?? 0)
    }
    const before = await completed()
    const reads = vi.spyOn(h.latchkey.store, 'getConnection')
    // Only the synchronous hot path serves a prepared answer.
    const prepared = vi.spyOn(h.latchkey.ctx.connectionCache, 'answer')
    try {
      h.latchkey.ctx.connectionCache.clear()
      const fromDatabase = await authorize()
      expect(reads).toHaveBeenCalledTimes(1)
      const fromMemory = await authorize()
      expect(reads).toHaveBeenCalledTimes(1) // answered from memory
      expect(prepared).toHaveBeenCalledTimes(1)
      expect(fromDatabase['status']).toBe('completed')
      expect(fromMemory).toEqual(fromDatabase)
      expect(await completed()).toBe(before + 2)

      // A write replaces the cached row and its prepared answer (here: new profile data).
      await h.latchkey.store.updateConnection(fromMemory.id, { user_info: { sub: 'alice', name: 'Alice Renamed' } })
      expect((await authorize()).context.user_info).toEqual({ sub: 'alice', name: 'Alice Renamed' })
      expect(reads).toHaveBeenCalledTimes(2)
      const cachedAgain = await authorize()
      expect(reads).toHaveBeenCalledTimes(2)
      expect(cachedAgain.context.user_info).toEqual({ sub: 'alice', name: 'Alice Renamed' })
    } finally {
      reads.mockRestore()
      prepared.mockRestore()
    }
  })

  it('asks again, for requested ∪ granted scopes, when a new scope is needed', async () => {
    const more = await client.auth.start('alice@example.com', 'test-idp', { scopes: ['files.read'] })
    expect(more.status).toBe('pending')
    const browser = new TestBrowser()
    const first = await browser.openLink(more.url!)
    const scope = new URL(first.location!).searchParams.get('scope')!.split(' ')
    expect(scope.sort()).toEqual(['files.read', 'openid', 'profile'])
    await browser.authorize(first.location!, { login: 'alice' })
    const done = await client.auth.waitForCompletion(more, { timeoutMs: 10_000 })
    expect(done.scopes).toEqual(expect.arrayContaining(['files.read', 'openid', 'profile']))
    const now = await client.auth.start('alice@example.com', 'test-idp', { scopes: ['files.read', 'openid'] })
    expect(now.status).toBe('completed')
  })

  it('reuses one pending flow for identical concurrent requests', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => client.auth.start('bob', 'test-idp', { scopes: ['openid', 'files.write'] })),
    )
    expect(new Set(results.map((r) => r.id)).size).toBe(1)
    const other = await client.auth.start('bob', 'test-idp', { scopes: ['openid'] })
    expect(other.id).not.toBe(results[0]!.id)
  })

  it('fails the flow when the user declines, and the SDK throws', async () => {
    const started = await client.auth.start('carol', 'test-idp', { scopes: ['openid'] })
    const waiting = client.auth.waitForCompletion(started, { timeoutMs: 10_000 }).catch((e: unknown) => e)
    const page = await new TestBrowser().authorize(started.url!, { login: 'carol', decision: 'deny' })
    expect(page.body).toContain('declined')
    const err = await waiting
    expect(err).toBeInstanceOf(AuthorizationFailedError)
    expect((err as AuthorizationFailedError).reason).toBe('access_denied')
  })

  it('answers a long-poll within milliseconds of the callback', async () => {
    const started = await client.auth.start('dave', 'test-idp', { scopes: ['openid'] })
    const browser = new TestBrowser()
    const callback = await browser.authorize(started.url!, { login: 'dave', stopAt: (u) => u.pathname === '/oauth/callback' })
    const callbackUrl = callback.location!
    const statusCall = client.auth.status({ id: started.id!, wait: 30 })
    await new Promise((r) => setTimeout(r, 200))
    const landed = Date.now()
    await browser.request(callbackUrl)
    const res = await statusCall
    const latency = Date.now() - landed
    expect(res.status).toBe('completed')
    expect(latency).toBeLessThan(2000)
  })

  it('times out a long-poll with 200 and the pending status', async () => {
    const started = await client.auth.start('erin', 'test-idp', { scopes: ['openid'] })
    const t0 = Date.now()
    const res = await client.auth.status({ id: started.id!, wait: 1 })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
    expect(res.status).toBe('pending')
    expect(res.url).toBe(started.url)
  })

  it('404s an unknown id and 401s a bad key', async () => {
    await expect(client.auth.status({ id: 'ac_doesnotexist' })).rejects.toBeInstanceOf(NotFoundError)
    const bad = new Latchkey({ apiKey: `lk_aaaaaaaaaaaa_${'x'.repeat(43)}`, baseURL: h.baseURL })
    await expect(bad.auth.start('x', 'test-idp')).rejects.toBeInstanceOf(AuthenticationError)
  })
})
