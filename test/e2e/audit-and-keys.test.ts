/**
 * The audit trail over the admin API after real activity (a flow, token hand-outs by two keys,
 * a connection delete, key create/revoke): the right entries with the right actors, working
 * filters, and no secret anywhere in it. And the per-key rate limit.
 */

import type { AuditEntry } from '@latchkey/client'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseApiKey } from '../../src/crypto/api-keys.js'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

describe('audit trail through the admin API', () => {
  let h: Harness
  let adminId: string
  let runtimeKey: string
  let runtimeId: string
  let spareKey: string
  let spareId: string
  let accessToken: string
  let refreshToken: string
  let connectionId: string
  let otherConnectionId: string
  const secrets: string[] = []

  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${h.baseURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${h.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    })
    const text = await r.text()
    return { status: r.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined }
  }

  async function audit(query: Record<string, string> = {}) {
    const r = await admin('GET', `/v1/admin/audit?${new URLSearchParams({ limit: '1000', ...query })}`)
    expect(r.status, r.text).toBe(200)
    return { text: r.text, items: r.json!['items'] as AuditEntry[], total: r.json!['total_count'] as number }
  }

  beforeAll(async () => {
    h = await startHarness()
    adminId = parseApiKey(h.apiKey)!.id
    secrets.push(h.apiKey, parseApiKey(h.apiKey)!.secret, h.idp.clientSecret)

    // Keys created through the admin API (their one-time secrets must not be audited).
    const created = await admin('POST', '/v1/admin/api_keys', { name: 'agent', role: 'runtime' })
    expect(created.status).toBe(201)
    runtimeKey = created.json!['key'] as string
    runtimeId = created.json!['id'] as string
    const spare = await admin('POST', '/v1/admin/api_keys', { name: 'spare', role: 'admin', expires_in_days: 1 })
    spareKey = spare.json!['key'] as string
    spareId = spare.json!['id'] as string
    secrets.push(runtimeKey, parseApiKey(runtimeKey)!.secret, spareKey, parseApiKey(spareKey)!.secret)

    // A real flow started and completed by the runtime key.
    const runtime = new Latchkey({ apiKey: runtimeKey, baseURL: h.baseURL, maxRetries: 0 })
    const started = await runtime.auth.start('audited@example.com', 'test-idp', { scopes: ['openid', 'profile', 'offline_access'] })
    await new TestBrowser().authorize(started.url!, { login: 'audited' })
    const done = await runtime.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    accessToken = done.context!.token!
    // Two more hand-outs by the runtime key, one by the admin key.
    await runtime.auth.start('audited@example.com', 'test-idp', { scopes: ['openid'] })
    await runtime.auth.start('audited@example.com', 'test-idp', { scopes: ['openid'] })
    const byAdmin = await new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 }).auth.start(
      'audited@example.com',
      'test-idp',
      { scopes: ['openid'] },
    )
    expect(byAdmin.context!.token).toBe(accessToken)

    const c = (await h.latchkey.store.getConnection('audited@example.com', 'test-idp'))!
    connectionId = c.id
    refreshToken = h.latchkey.ctx.vault.open({ table: 'connections', id: c.id, field: 'refresh_token' }, c.refresh_token_enc!)
    secrets.push(accessToken, refreshToken)

    // Another user, so filters have something to leave out.
    const other = await runtime.auth.start('other@example.com', 'test-idp', { scopes: ['openid'] })
    await new TestBrowser().authorize(other.url!, { login: 'other' })
    const otherDone = await runtime.auth.waitForCompletion(other, { timeoutMs: 10_000 })
    secrets.push(otherDone.context!.token!)
    otherConnectionId = (await h.latchkey.store.getConnection('other@example.com', 'test-idp'))!.id

    // Delete the connection and revoke a key through the admin API.
    expect((await admin('DELETE', `/v1/admin/user_connections/${connectionId}`)).status).toBe(204)
    expect((await admin('DELETE', `/v1/admin/api_keys/${spareId}`)).status).toBe(200)
  }, 60_000)

  afterAll(async () => h?.close())

  it('records token hand-outs with the key that asked', async () => {
    const { items } = await audit({ action: 'token.issued', user_id: 'audited@example.com' })
    expect(items.length).toBeGreaterThanOrEqual(2)
    for (const e of items) {
      expect(e).toMatchObject({
        action: 'token.issued',
        user_id: 'audited@example.com',
        provider_id: 'test-idp',
        connection_id: connectionId,
      })
      expect([runtimeId, adminId]).toContain(e.actor)
    }
    // Hand-outs to one key within a flush window are one entry with a count.
    const handOuts = (actor: string) => items.filter((e) => e.actor === actor).reduce((n, e) => n + Number(e.detail?.['count']), 0)
    expect(handOuts(adminId)).toBe(1)
    expect(handOuts(runtimeId)).toBeGreaterThanOrEqual(3)
    // Newest first.
    const times = items.map((e) => Date.parse(e.at))
    expect([...times].sort((a, b) => b - a)).toEqual(times)
  })

  it('records connection.created, connection.revoked, api_key.created and api_key.revoked', async () => {
    const { items } = await audit()
    const one = (action: string, pred: (e: AuditEntry) => boolean = () => true) => {
      const found = items.filter((e) => e.action === action && pred(e))
      expect(found, action).toHaveLength(1)
      return found[0]!
    }
    expect(one('connection.created', (e) => e.user_id === 'audited@example.com')).toMatchObject({
      provider_id: 'test-idp',
      connection_id: connectionId,
    })
    expect(one('connection.created', (e) => e.user_id === 'other@example.com')).toMatchObject({ connection_id: otherConnectionId })
    expect(one('connection.revoked')).toMatchObject({
      actor: adminId,
      user_id: 'audited@example.com',
      provider_id: 'test-idp',
      connection_id: connectionId,
      detail: { provider_revocation: 'revoked' },
    })
    expect(one('api_key.created', (e) => e.detail?.['key_id'] === runtimeId)).toMatchObject({ actor: adminId, detail: { role: 'runtime' } })
    expect(one('api_key.created', (e) => e.detail?.['key_id'] === spareId)).toMatchObject({ actor: adminId, detail: { role: 'admin' } })
    expect(one('api_key.revoked')).toMatchObject({ actor: adminId, detail: { key_id: spareId } })
    expect(items.some((e) => e.action === 'flow.started' && e.actor === runtimeId && e.user_id === 'audited@example.com')).toBe(true)
  })

  it('filters by user_id, action, actor and connection_id', async () => {
    const all = await audit()
    const byUser = await audit({ user_id: 'other@example.com' })
    expect(byUser.items.length).toBeGreaterThan(0)
    expect(byUser.items.every((e) => e.user_id === 'other@example.com')).toBe(true)
    expect(byUser.total).toBe(all.items.filter((e) => e.user_id === 'other@example.com').length)

    const byAction = await audit({ action: 'connection.created' })
    expect(byAction.items.map((e) => e.user_id).sort()).toEqual(['audited@example.com', 'other@example.com'])

    const both = await audit({ action: 'token.issued', user_id: 'other@example.com' })
    expect(both.items.length).toBeGreaterThan(0)
    expect(both.items.every((e) => e.action === 'token.issued' && e.user_id === 'other@example.com')).toBe(true)

    const byActor = await audit({ actor: adminId })
    expect(byActor.items.every((e) => e.actor === adminId)).toBe(true)
    expect(new Set(byActor.items.map((e) => e.action))).toEqual(
      new Set(['api_key.created', 'api_key.revoked', 'token.issued', 'connection.revoked']),
    )

    const byConnection = await audit({ connection_id: connectionId })
    expect(byConnection.items.every((e) => e.connection_id === connectionId)).toBe(true)
    expect(byConnection.items.some((e) => e.action === 'connection.revoked')).toBe(true)

    expect((await audit({ user_id: 'nobody' })).items).toEqual([])
    expect((await audit({ action: 'no.such.action' })).items).toEqual([])
    // Paging: limit and offset walk the same list.
    const page = await admin('GET', '/v1/admin/audit?limit=2&offset=1')
    expect((page.json!['items'] as AuditEntry[]).map((e) => e.id)).toEqual(all.items.slice(1, 3).map((e) => e.id))
  })

  it('never contains a secret: no token, refresh token, API key or client secret', async () => {
    const { text } = await audit()
    expect(secrets.length).toBe(10)
    for (const s of secrets) expect(text.includes(s), `a secret of length ${s.length} is in the audit trail`).toBe(false)
    // Also not in the key listing.
    const keys = await admin('GET', '/v1/admin/api_keys')
    for (const s of secrets) expect(keys.text.includes(s)).toBe(false)
  })
})

describe('rate limit per API key', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ config: { rateLimit: { perMinute: 5 } } })
  })
  afterAll(async () => h?.close())

  it('answers the 6th call in a minute with 429 RATE_LIMITED and retry-after; another key is unaffected', async () => {
    const other = (await h.latchkey.apiKeys.create({ name: 'other', role: 'runtime' })).key
    const call = (key: string, path = '/v1/providers') => fetch(`${h.baseURL}${path}`, { headers: { authorization: key } })
    for (let i = 0; i < 5; i++) expect((await call(h.apiKey)).status).toBe(200)
    const limited = await call(h.apiKey)
    expect(limited.status).toBe(429)
    expect(await limited.json()).toEqual({ name: 'RATE_LIMITED', message: expect.stringContaining('5 requests per minute') })
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(Number.isInteger(retryAfter)).toBe(true)
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // The limit is per key and covers the admin API too.
    expect((await call(h.apiKey, '/v1/admin/api_keys')).status).toBe(429)
    for (let i = 0; i < 5; i++) expect((await call(other)).status).toBe(200)
    expect((await call(other)).status).toBe(429)
    // Unauthenticated endpoints are not limited.
    expect((await fetch(`${h.baseURL}/v1/health`)).status).toBe(200)
  })
})
