/**
 * Arcade's official JS SDK (`@arcadeai/arcadejs`), unchanged, against a real Latchkey server and a
 * real OAuth server: only `baseURL` and `apiKey` differ from a client talking to Arcade. The SDK
 * sends `Authorization: <raw key>` (no `Bearer`), expects `{ name, message }` error bodies and
 * maps statuses to its own error classes.
 */
import Arcade, { AuthenticationError, NotFoundError } from '@arcadeai/arcadejs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

let h: Harness
let client: Arcade

const USER = 'sdk-user@example.com'

beforeAll(async () => {
  h = await startHarness()
  client = new Arcade({ apiKey: h.apiKey, baseURL: h.baseURL })
})
afterAll(async () => h?.close())

async function userinfo(token: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${h.idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })
  expect(r.status).toBe(200)
  return (await r.json()) as Record<string, unknown>
}

/** The SDK's waitForCompletion has no deadline of its own; fail the test instead of hanging. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms).unref()),
  ])
}

describe('Arcade JS SDK against Latchkey', () => {
  let connectionId: string
  let token: string

  it('health.check() answers { healthy: true }', async () => {
    expect(await client.health.check()).toEqual({ healthy: true })
  })

  it('start → pending with a url; the browser consents; waitForCompletion → completed with a working token', async () => {
    const started = await client.auth.start(USER, 'test-idp', { scopes: ['openid', 'profile'] })
    expect(started.status).toBe('pending')
    expect(started.id).toMatch(/^ac_/)
    expect(started.url).toMatch(new RegExp(`^${h.baseURL}/`))
    expect(started.provider_id).toBe('test-idp')
    expect(started.user_id).toBe(USER)

    const waiting = within(20_000, client.auth.waitForCompletion(started))
    const page = await new TestBrowser().authorize(started.url!, { login: 'sdk-user' })
    expect(page.status).toBe(200)

    const done = await waiting
    expect(done.status).toBe('completed')
    expect(done.context?.token).toBeTruthy()
    expect(done.scopes).toEqual(expect.arrayContaining(['openid', 'profile']))
    token = done.context!.token!
    expect((await userinfo(token))['sub']).toBe('sdk-user')

    // status() with and without wait, on the (now completed) authorization id.
    const polled = await client.auth.status({ id: started.id!, wait: 5 })
    expect(polled.status).toBe('completed')
    expect(polled.context?.token).toBe(token)
    const now = await client.auth.status({ id: started.id! })
    expect(now.status).toBe('completed')
  })

  it('start again → completed at once, and waitForCompletion makes no request', async () => {
    const again = await client.auth.start(USER, 'test-idp', { scopes: ['openid'] })
    expect(again.status).toBe('completed')
    expect(again.url).toBeUndefined()
    expect(again.context?.token).toBe(token)
    expect(await client.auth.waitForCompletion(again)).toBe(again)
  })

  it('status({ id, wait }) long-polls a pending authorization and answers 200 pending on expiry', async () => {
    const pending = await client.auth.start(USER, 'test-idp', { scopes: ['files.read'] })
    expect(pending.status).toBe('pending')
    const t0 = Date.now()
    const res = await client.auth.status({ id: pending.id!, wait: 1 })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
    expect(res.status).toBe('pending')
    expect(res.url).toBe(pending.url)
  })

  it('admin.userConnections.list({ user_id }) returns the connection; both filter spellings work on the wire', async () => {
    const page = await client.admin.userConnections.list({ user_id: USER })
    expect(page.items).toHaveLength(1)
    const item = page.items[0]!
    expect(item).toMatchObject({ provider_id: 'test-idp', user_id: USER, provider_type: 'oauth2' })
    expect(item.scopes).toEqual(expect.arrayContaining(['openid', 'profile']))
    expect(JSON.stringify(item)).not.toContain(token)
    connectionId = item.id!
    expect(item.connection_id).toBe(connectionId)

    // Auto-pagination over the same endpoint.
    const all: string[] = []
    for await (const c of client.admin.userConnections.list({ user_id: USER, limit: 1 })) all.push(c.id!)
    expect(all).toEqual([connectionId])

    const other = await client.admin.userConnections.list({ user_id: 'nobody' })
    expect(other.items).toHaveLength(0)

    // Raw HTTP, raw key (as the SDK sends it): flat `user_id=` (JS ≥ 2.x) and bracketed `user[id]=` (Python SDK).
    for (const query of [
      `user_id=${encodeURIComponent(USER)}`,
      `user%5Bid%5D=${encodeURIComponent(USER)}`,
      `user[id]=${encodeURIComponent(USER)}&provider[id]=test-idp`,
    ]) {
      const r = await fetch(`${h.baseURL}/v1/admin/user_connections?${query}`, { headers: { authorization: h.apiKey } })
      expect(r.status, query).toBe(200)
      expect(r.headers.get('content-type')).toMatch(/^application\/json/)
      const body = (await r.json()) as {
        items: Array<{ id: string }>
        total_count: number
        offset: number
        limit: number
        page_count: number
      }
      expect(
        body.items.map((i) => i.id),
        query,
      ).toEqual([connectionId])
      expect(body).toMatchObject({ total_count: 1, offset: 0, page_count: 1 })
    }
    const none = await fetch(`${h.baseURL}/v1/admin/user_connections?user%5Bid%5D=nobody`, { headers: { authorization: h.apiKey } })
    expect(((await none.json()) as { items: unknown[] }).items).toHaveLength(0)
  })

  it('accepts the raw key (what the SDK sends) and the Bearer form alike', async () => {
    // Watch the SDK's own request: `Authorization` is the bare key.
    const seen: Array<string | null> = []
    const watched = new Arcade({
      apiKey: h.apiKey,
      baseURL: h.baseURL,
      fetch: async (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization'))
        return fetch(input, init)
      },
    })
    expect((await watched.auth.start(USER, 'test-idp', { scopes: ['openid'] })).status).toBe('completed')
    expect(seen).toEqual([h.apiKey])

    for (const authorization of [h.apiKey, `Bearer ${h.apiKey}`]) {
      const r = await fetch(`${h.baseURL}/v1/auth/authorize`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({
          user_id: USER,
          auth_requirement: { provider_id: 'test-idp', provider_type: 'oauth2', oauth2: { scopes: ['openid'] } },
        }),
      })
      expect(r.status).toBe(200)
      expect(((await r.json()) as { status: string }).status).toBe('completed')
    }
  })

  it('admin.userConnections.delete(id) resolves (204); the next start is pending again', async () => {
    // The SDK types delete() as void; for a 204 it resolves with null.
    const { data, response } = await client.admin.userConnections.delete(connectionId).withResponse()
    expect(response.status).toBe(204)
    expect(data).toBeNull()
    expect((await client.admin.userConnections.list({ user_id: USER })).items).toHaveLength(0)
    const next = await client.auth.start(USER, 'test-idp', { scopes: ['openid'] })
    expect(next.status).toBe('pending')
    expect(next.url).toBeTruthy()
    // Deleting again: 404 → the SDK's NotFoundError.
    await expect(client.admin.userConnections.delete(connectionId)).rejects.toBeInstanceOf(NotFoundError)
  })

  it('an invalid key → AuthenticationError (401) with a { name, message } body', async () => {
    const bad = new Arcade({ apiKey: `lk_aaaaaaaaaaaa_${'x'.repeat(43)}`, baseURL: h.baseURL })
    const err = await bad.auth.start(USER, 'test-idp').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuthenticationError)
    const e = err as AuthenticationError
    expect(e.status).toBe(401)
    expect(e.error).toMatchObject({ name: expect.any(String), message: expect.any(String) })
    const garbage = new Arcade({ apiKey: 'not-a-key', baseURL: h.baseURL })
    await expect(garbage.health.check()).resolves.toEqual({ healthy: true }) // health is unauthenticated
    await expect(garbage.admin.userConnections.list()).rejects.toBeInstanceOf(AuthenticationError)
  })

  it('errors carry { name, message } the SDK surfaces: unknown provider → NotFoundError with our message', async () => {
    const err = await client.auth.start(USER, 'no-such-provider').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    const e = err as NotFoundError
    expect(e.status).toBe(404)
    const body = e.error as { name: unknown; message: unknown }
    expect(body).toEqual({ name: 'PROVIDER_UNKNOWN', message: expect.any(String) })
    expect(body.message).toContain('no-such-provider')
    expect(e.message).toBe(`404 ${body.message as string}`)

    const unknownId = await client.auth.status({ id: 'ac_doesnotexist' }).catch((x: unknown) => x)
    expect(unknownId).toBeInstanceOf(NotFoundError)
    expect((unknownId as NotFoundError).error).toMatchObject({ name: 'FLOW_NOT_FOUND' })
  })
})
