/**
 * Token lifecycle against a real OAuth server: refresh before hand-out, exactly one refresh for
 * concurrent callers, rotation, refresh tokens kept when the provider omits them, failure
 * classification (dead grant, transient, misconfigured), background refresh, revocation.
 */

import { InternalServerError, Latchkey } from '@latchkey/client'
import { afterEach, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, type HarnessOptions, startHarness } from '../helpers/latchkey.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

async function connect(options: HarnessOptions = {}, user = 'alice') {
  h = await startHarness(options)
  const client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
  const started = await client.auth.start(user, 'test-idp', { scopes: ['openid', 'profile', 'offline_access'] })
  await new TestBrowser().authorize(started.url!, { login: user })
  const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  const connection = (await h.latchkey.store.getConnection(user, 'test-idp'))!
  return { h, client, token: done.context!.token!, connection, flowId: started.id! }
}

const refreshCalls = (hh: Harness) => hh.idp.tokenCalls.get('refresh_token') ?? 0
/** Time passes: the connection's hour-long token now expires at `at` (issued an hour before). */
const expire = (hh: Harness, id: string, at = Date.now() - 1000) =>
  hh.latchkey.store.updateConnection(id, { expires_at: at, token_issued_at: at - 3_600_000 })
const storedRefreshToken = async (hh: Harness, id: string) => {
  const c = (await hh.latchkey.store.getConnectionById(id))!
  return hh.latchkey.ctx.vault.open({ table: 'connections', id, field: 'refresh_token' }, c.refresh_token_enc!)
}
async function userinfoStatus(hh: Harness, token: string) {
  return (await fetch(`${hh.idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })).status
}

describe('refresh', () => {
  it('refreshes an expiring token before handing it out, once for 50 concurrent callers', async () => {
    const { h, client, token, connection } = await connect()
    expect(connection.refresh_token_enc).not.toBeNull()
    await expire(h, connection.id)
    h.idp.tokenDelayMs = 150
    const misses = h.latchkey.ctx.connectionCache.misses
    const results = await Promise.all(Array.from({ length: 50 }, () => client.auth.start('alice', 'test-idp', { scopes: ['openid'] })))
    expect(refreshCalls(h)).toBe(1)
    // One database read: the first caller's. The others find its row in the connection cache and
    // wait on its refresh in process (the refresher's single flight), without touching the database.
    expect(h.latchkey.ctx.connectionCache.misses - misses).toBe(1)
    const tokens = new Set(results.map((r) => r.context?.token))
    expect(tokens.size).toBe(1)
    const fresh = [...tokens][0]!
    expect(fresh).not.toBe(token)
    expect(await userinfoStatus(h, fresh)).toBe(200)
    const after = (await h.latchkey.store.getConnectionById(connection.id))!
    expect(after.expires_at!).toBeGreaterThan(Date.now() + 60_000)
    expect(after.last_refresh_at).not.toBeNull()
    expect(after.refresh_failures).toBe(0)
  })

  it('does not refresh a token that is still fresh', async () => {
    const { h, client, token } = await connect()
    const again = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(again.context?.token).toBe(token)
    expect(refreshCalls(h)).toBe(0)
  })

  it('refreshes tokens that live shorter than the margin at half their life, not on every hand-out', async () => {
    // 120-second tokens against the default 300-second margin (Keycloak's default is 5 minutes).
    const { h, client, token, connection } = await connect({ idp: { accessTokenTtlSeconds: 120 } })
    expect(connection.token_issued_at).not.toBeNull()
    expect(connection.expires_at! - connection.token_issued_at!).toBe(120_000)
    for (let i = 0; i < 5; i++) expect((await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })).context?.token).toBe(token)
    expect(refreshCalls(h)).toBe(0)

    // Past half its life (50 s left of 120): refreshed once, and the new token is served as it is.
    const issued = Date.now() - 70_000
    await h.latchkey.store.updateConnection(connection.id, { token_issued_at: issued, expires_at: issued + 120_000 })
    const fresh = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(fresh.context?.token).not.toBe(token)
    for (let i = 0; i < 5; i++)
      expect((await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })).context?.token).toBe(fresh.context?.token)
    expect(refreshCalls(h)).toBe(1)
    const after = (await h.latchkey.store.getConnectionById(connection.id))!
    expect(after.expires_at! - after.token_issued_at!).toBe(120_000)
  })

  it('stores a rotated refresh token, and the new one keeps working', async () => {
    const { h, client, connection } = await connect({ idp: { rotateRefreshToken: true } })
    const before = await storedRefreshToken(h, connection.id)
    await expire(h, connection.id)
    await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    const rotated = await storedRefreshToken(h, connection.id)
    expect(rotated).not.toBe(before)
    await expire(h, connection.id)
    const second = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(second.status).toBe('completed')
    expect(refreshCalls(h)).toBe(2)
    expect(await userinfoStatus(h, second.context!.token!)).toBe(200)
  })

  it('keeps the old refresh token when the refresh response carries none', async () => {
    // The network boundary drops refresh_token from refresh responses, as many providers do.
    const dropRefreshToken: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const body = String(init?.body ?? '')
      if (!body.includes('grant_type=refresh_token') || !response.ok) return response
      const json = (await response.json()) as Record<string, unknown>
      delete json['refresh_token']
      json['refresh_token_expires_in'] = 3600
      return new Response(JSON.stringify(json), { status: 200, headers: { 'content-type': 'application/json' } })
    }
    const { h, client, connection } = await connect({ fetch: dropRefreshToken })
    const before = await storedRefreshToken(h, connection.id)
    await expire(h, connection.id)
    const r = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(r.status).toBe('completed')
    expect(await storedRefreshToken(h, connection.id)).toBe(before)
    const after = (await h.latchkey.store.getConnectionById(connection.id))!
    expect(after.refresh_token_expires_at).toBeGreaterThan(Date.now() + 3000_000)
  })

  it('marks a dead grant reauth_required and never serves its token again', async () => {
    const { h, client, token, connection } = await connect()
    await expire(h, connection.id)
    h.idp.failTokenWith = { status: 400, error: 'invalid_grant' }
    const r = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(r.status).toBe('pending')
    expect(r.url).toContain('/oauth/authorize/')
    expect(r.context).toBeUndefined()
    const c = (await h.latchkey.store.getConnectionById(connection.id))!
    expect(c.status).toBe('reauth_required')
    expect(c.last_refresh_error).toContain('invalid_grant')
    // Even with the provider healthy again, the stored token is not handed out.
    h.idp.failTokenWith = undefined
    const again = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(again.status).toBe('pending')
    expect(JSON.stringify(again)).not.toContain(token)
    // The user re-consents: the connection is active again.
    await new TestBrowser().authorize(again.url!, { login: 'alice' })
    const done = await client.auth.waitForCompletion(again, { timeoutMs: 10_000 })
    expect(done.status).toBe('completed')
    expect((await h.latchkey.store.getConnectionById(connection.id))!.status).toBe('active')
  })

  it('keeps serving a still-valid token through a provider outage, with a cooldown', async () => {
    const { h, client, token, connection } = await connect()
    // Inside the 5-minute margin but not expired.
    await expire(h, connection.id, Date.now() + 60_000)
    h.idp.failTokenWith = { status: 503, error: 'temporarily_unavailable' }
    const r = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(r.status).toBe('completed')
    expect(r.context?.token).toBe(token)
    const c = (await h.latchkey.store.getConnectionById(connection.id))!
    expect(c.status).toBe('active')
    expect(c.refresh_failures).toBe(1)
    expect(c.refresh_cooldown_until).toBeGreaterThan(Date.now())
    const failedCalls = h.idp.tokenCalls.get('failed')
    await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })
    expect(h.idp.tokenCalls.get('failed')).toBe(failedCalls)
  })

  it('reports an outage as 502 once the token has expired, and misconfiguration as such', async () => {
    const { h, client, connection } = await connect()
    await expire(h, connection.id)
    h.idp.failTokenWith = { status: 503, error: 'temporarily_unavailable' }
    const outage = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] }).catch((e: unknown) => e)
    expect(outage).toBeInstanceOf(InternalServerError)
    expect((outage as InternalServerError).code).toBe('PROVIDER_UNAVAILABLE')
    await h.latchkey.store.updateConnection(connection.id, { refresh_cooldown_until: null })
    h.idp.failTokenWith = { status: 401, error: 'invalid_client' }
    const misconfigured = await client.auth.start('alice', 'test-idp', { scopes: ['openid'] }).catch((e: unknown) => e)
    expect((misconfigured as InternalServerError).code).toBe('PROVIDER_MISCONFIGURED')
    // Not the user's fault: the connection stays active.
    expect((await h.latchkey.store.getConnectionById(connection.id))!.status).toBe('active')
  })

  it('refreshes connections ahead of expiry in the background', async () => {
    const { h, connection } = await connect()
    await expire(h, connection.id, Date.now() + 30_000)
    await h.latchkey.background.runOnce()
    expect(refreshCalls(h)).toBe(1)
    const c = (await h.latchkey.store.getConnectionById(connection.id))!
    expect(c.expires_at!).toBeGreaterThan(Date.now() + 600_000)
  })

  it('refreshes the token of a completed flow asked for by status', async () => {
    const { h, client, connection, flowId } = await connect()
    await expire(h, connection.id)
    const s = await client.auth.status({ id: flowId })
    expect(s.status).toBe('completed')
    expect(refreshCalls(h)).toBe(1)
    expect(await userinfoStatus(h, s.context!.token!)).toBe(200)
  })

  it('revokes the grant at the provider when the connection is deleted', async () => {
    const { h, client, connection } = await connect()
    const refreshToken = await storedRefreshToken(h, connection.id)
    const r = await fetch(`${h.baseURL}/v1/admin/user_connections/${connection.id}`, {
      method: 'DELETE',
      headers: { authorization: h.apiKey },
    })
    expect(r.status).toBe(204)
    expect(r.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
    expect(await h.latchkey.store.getConnectionById(connection.id)).toBeUndefined()
    // The refresh token no longer works at the provider.
    const direct = await fetch(`${h.idp.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${h.idp.clientId}:${h.idp.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    })
    expect(direct.status).toBe(400)
    expect(((await direct.json()) as { error: string }).error).toBe('invalid_grant')
    expect((await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })).status).toBe('pending')
  })

  it('deletes after a refresh in flight and revokes the token that refresh stored, not the one it replaced', async () => {
    const { h, client, connection } = await connect({ idp: { rotateRefreshToken: true } })
    await expire(h, connection.id)
    h.idp.tokenDelayMs = 300
    const order: string[] = []
    const refreshing = client.auth.start('alice', 'test-idp', { scopes: ['openid'] }).then((r) => {
      order.push('refreshed')
      return r
    })
    await new Promise((r) => setTimeout(r, 100)) // the refresh holds the lock and waits on the provider
    const deleting = fetch(`${h.baseURL}/v1/admin/user_connections/${connection.id}`, {
      method: 'DELETE',
      headers: { authorization: h.apiKey },
    }).then((r) => {
      order.push('deleted')
      return r
    })
    const [refreshed, deleted] = await Promise.all([refreshing, deleting])
    expect(order).toEqual(['refreshed', 'deleted'])
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
    expect(refreshCalls(h)).toBe(1)
    // The token the refresh handed out was revoked with the grant; nothing was written back.
    expect(await userinfoStatus(h, refreshed.context!.token!)).toBe(401)
    expect(await h.latchkey.store.getConnectionById(connection.id)).toBeUndefined()
  })
})
