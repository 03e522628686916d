/**
 * Arcade's admin API for providers (`/v1/admin/auth_providers`) over HTTP against a real Latchkey:
 * create a custom provider pointing at the test IdP and sign in through it, list, read, patch and
 * delete it; errors name the field; config providers cannot be changed; the client secret is never
 * in a response and is stored encrypted.
 */

import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

let h: Harness
/** Every response body the tests saw, to check no secret ever appears in one. */
const seen: string[] = []

beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h?.close()
})

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${h.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${h.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  })
  const text = await r.text()
  seen.push(text)
  return { status: r.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }
}

/** An Arcade-style body for a custom provider backed by the test IdP (as `h.idp.entry()`, under another id). */
const body = (id: string) => ({ ...h.idp.entry(id), description: 'Admin-managed IdP' })

describe('/v1/admin/auth_providers', () => {
  const id = 'admin-idp'

  it('creates a provider (201) whose response shows only that a secret exists', async () => {
    const r = await api('POST', '/v1/admin/auth_providers', body(id))
    expect(r.status).toBe(201)
    expect(r.json).toMatchObject({ id, description: 'Admin-managed IdP', type: 'oauth2', status: 'active', source: 'admin' })
    const oauth2 = r.json['oauth2'] as Record<string, unknown>
    expect(oauth2['client_id']).toBe(h.idp.clientId)
    expect(oauth2['client_secret']).toEqual({ binding: 'static', editable: true, exists: true })
    expect(oauth2['redirect_uri']).toBe(`${h.baseURL}/oauth/callback`)
    expect(oauth2['pkce']).toEqual({ enabled: true, code_challenge_method: 'S256' })
    expect((oauth2['token_request'] as Record<string, unknown>)['endpoint']).toBe(`${h.idp.issuer}/token`)
  })

  it('stores the client secret encrypted', async () => {
    const row = await h.latchkey.store.getProvider(id)
    expect(row).toBeDefined()
    expect(row!.client_secret_enc).toBeTruthy()
    expect(row!.client_secret_enc).not.toContain(h.idp.clientSecret)
    expect(row!.config).not.toContain(h.idp.clientSecret)
    // It is the secret, sealed for this row and field.
    expect(h.latchkey.ctx.vault.open({ table: 'providers', id, field: 'client_secret' }, row!.client_secret_enc!)).toBe(h.idp.clientSecret)
  })

  it('refuses a second provider with the same id', async () => {
    const r = await api('POST', '/v1/admin/auth_providers', body(id))
    expect(r.status).toBe(400)
    expect(r.json['name']).toBe('CONFLICT')
  })

  it('answers 400, not 500, for an id that is not a string (fuzz seed -976324334)', async () => {
    for (const id of [[{ toString: 'x' }], { toString: 'x' }, 42]) {
      const r = await api('POST', '/v1/admin/auth_providers', { id, provider_id: 'github', client_id: 'c', client_secret: 's' })
      expect(r.status).toBe(400)
      expect(r.json).toMatchObject({ name: 'BAD_REQUEST', message: 'invalid request: id: must be a string' })
    }
  })

  it('runs a full authorization with the new provider', async () => {
    const client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
    const started = await client.auth.start('carol', id, { scopes: ['openid', 'profile', 'offline_access'] })
    expect(started.status).toBe('pending')
    const page = await new TestBrowser().authorize(started.url!, { login: 'carol' })
    expect(page.status).toBe(200)
    const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    expect(done.status).toBe('completed')
    expect(done.context?.token).toBeTruthy()
    const userinfo = await fetch(`${h.idp.issuer}/me`, { headers: { authorization: `Bearer ${done.context!.token}` } })
    expect(userinfo.status).toBe(200)
    const connection = await h.latchkey.store.getConnection('carol', id)
    expect(connection?.status).toBe('active')
    expect(connection?.refresh_token_enc).not.toBeNull()
  })

  it('lists it next to the config-file provider, and reads it alone', async () => {
    const list = await api('GET', '/v1/admin/auth_providers')
    expect(list.status).toBe(200)
    const items = list.json['items'] as Array<Record<string, unknown>>
    expect(items.map((p) => [p['id'], p['source']])).toEqual(
      expect.arrayContaining([
        [id, 'admin'],
        ['test-idp', 'config'],
      ]),
    )
    expect(list.json['total_count']).toBe(items.length)
    const one = await api('GET', `/v1/admin/auth_providers/${id}`)
    expect(one.status).toBe(200)
    expect(one.json['id']).toBe(id)
    expect((one.json['oauth2'] as Record<string, unknown>)['client_secret']).toMatchObject({ exists: true })
  })

  it('patches the description and keeps the secret (the provider still works)', async () => {
    const r = await api('PATCH', `/v1/admin/auth_providers/${id}`, { description: 'Renamed IdP' })
    expect(r.status).toBe(200)
    expect(r.json['description']).toBe('Renamed IdP')
    expect((r.json['oauth2'] as Record<string, unknown>)['client_secret']).toMatchObject({ exists: true })
    expect((await api('GET', `/v1/admin/auth_providers/${id}`)).json['description']).toBe('Renamed IdP')
    const row = await h.latchkey.store.getProvider(id)
    expect(row!.client_secret_enc).not.toContain(h.idp.clientSecret)
    expect(h.latchkey.ctx.vault.open({ table: 'providers', id, field: 'client_secret' }, row!.client_secret_enc!)).toBe(h.idp.clientSecret)
    // A new authorization still exchanges its code with the stored secret.
    const client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
    const started = await client.auth.start('dave', id, { scopes: ['openid'] })
    await new TestBrowser().authorize(started.url!, { login: 'dave' })
    expect((await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })).status).toBe('completed')
  })

  it.each([
    ['a scope_delimiter outside the allowed values', { oauth2: { scope_delimiter: ';' } }, /oauth2\.scope_delimiter/],
    ['no client_id', { client_id: undefined, oauth2: { client_id: undefined } }, /client_id/],
    ['no token_request', { oauth2: { token_request: undefined } }, /oauth2\.token_request/],
    [
      'an unknown placeholder',
      { oauth2: { authorize_request: { params: { audience: '{{tenant}}' } } } },
      /oauth2\.authorize_request\.params\.audience/,
    ],
    [
      'an http:// endpoint off loopback',
      { oauth2: { token_request: { endpoint: 'http://idp.example.com/token' } } },
      /oauth2\.token_request\.endpoint: .*must use https/,
    ],
    [
      'a malformed response_map expression',
      { oauth2: { token_request: { response_map: { access_token: 'access_token' } } } },
      /oauth2\.token_request\.response_map\.access_token/,
    ],
    ['an unknown provider_id', { provider_id: 'no-such-provider', oauth2: undefined }, /provider_id/],
  ])('refuses %s with 400 naming the field', async (_what, patch, field) => {
    const base = body('bad-provider') as Record<string, unknown>
    const oauth2 = { ...(base['oauth2'] as Record<string, unknown>) }
    const p = patch as Record<string, unknown>
    for (const [k, v] of Object.entries((p['oauth2'] as Record<string, unknown> | undefined) ?? {})) {
      oauth2[k] = v !== null && typeof v === 'object' ? { ...(oauth2[k] as Record<string, unknown>), ...v } : v
    }
    const sent = { ...base, ...p, oauth2: 'oauth2' in p && p['oauth2'] === undefined ? undefined : oauth2 }
    const r = await api('POST', '/v1/admin/auth_providers', sent)
    expect(r.status, JSON.stringify(r.json)).toBe(400)
    expect(r.json['name']).toBe('BAD_REQUEST')
    expect(String(r.json['message'])).toMatch(field)
    expect((await api('GET', '/v1/admin/auth_providers/bad-provider')).status).toBe(404)
    expect(await h.latchkey.store.getProvider('bad-provider')).toBeUndefined()
  })

  it('refuses a PATCH that breaks the provider, and keeps the working one', async () => {
    const r = await api('PATCH', `/v1/admin/auth_providers/${id}`, { oauth2: { token_request: { endpoint: 'not a url' } } })
    expect(r.status).toBe(400)
    expect(String(r.json['message'])).toMatch(/oauth2\.token_request\.endpoint/)
    const one = await api('GET', `/v1/admin/auth_providers/${id}`)
    expect((one.json['oauth2'] as Record<string, Record<string, unknown>>)['token_request']!['endpoint']).toBe(`${h.idp.issuer}/token`)
  })

  it('will not change or delete a provider defined in the config file (400)', async () => {
    const patched = await api('PATCH', '/v1/admin/auth_providers/test-idp', { description: 'nope' })
    expect(patched.status).toBe(400)
    expect(String(patched.json['message'])).toContain('latchkey.yaml')
    const deleted = await api('DELETE', '/v1/admin/auth_providers/test-idp')
    expect(deleted.status).toBe(400)
    expect(deleted.json['name']).toBe('BAD_REQUEST')
    expect((await api('GET', '/v1/admin/auth_providers/test-idp')).status).toBe(200)
  })

  it('answers 404 for an unknown id', async () => {
    for (const [method, b] of [
      ['GET', undefined],
      ['PATCH', { description: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const r = await api(method, '/v1/admin/auth_providers/no-such-provider', b)
      expect(r.status, method).toBe(404)
      expect(r.json['name']).toBe('PROVIDER_UNKNOWN')
    }
  })

  it('deletes it (200): gone from the API, the store and the authorize path', async () => {
    const r = await api('DELETE', `/v1/admin/auth_providers/${id}`)
    expect(r.status).toBe(200)
    expect(r.json['id']).toBe(id)
    expect((await api('GET', `/v1/admin/auth_providers/${id}`)).status).toBe(404)
    expect(await h.latchkey.store.getProvider(id)).toBeUndefined()
    const items = (await api('GET', '/v1/admin/auth_providers')).json['items'] as Array<Record<string, unknown>>
    expect(items.map((p) => p['id'])).not.toContain(id)
    const authorize = await api('POST', '/v1/auth/authorize', {
      user_id: 'carol',
      auth_requirement: { provider_id: id, oauth2: { scopes: ['openid'] } },
    })
    expect(authorize.status).toBe(404)
  })

  it('never returned the client secret, and never logged it', () => {
    expect(seen.length).toBeGreaterThan(10)
    for (const text of seen) expect(text).not.toContain(h.idp.clientSecret)
    expect(h.logs.join('\n')).not.toContain(h.idp.clientSecret)
  })
})

describe('provider resync (a change whose notification was lost)', () => {
  it('applies rows changed or deleted behind its back, compiles unchanged rows once, and logs a broken row once', async () => {
    const id = 'resync-idp'
    expect((await api('POST', '/v1/admin/auth_providers', body(id))).status).toBe(201)
    const { store, providerAdmin, ctx } = h.latchkey
    const applied = ctx.registry.get(id)!
    await providerAdmin.loadAll()
    expect(ctx.registry.get(id)).toBe(applied) // unchanged: not compiled again

    // Another process changed the row; its notification never arrived.
    const row = (await store.getProvider(id))!
    await store.upsertProvider({
      ...row,
      config: JSON.stringify({ ...JSON.parse(row.config), description: 'Renamed elsewhere' }),
      updated_at: row.updated_at + 1,
    })
    expect(ctx.registry.get(id)!.description).toBe('Admin-managed IdP')
    await providerAdmin.loadAll()
    expect(ctx.registry.get(id)!.description).toBe('Renamed elsewhere')

    // A broken row stays disabled and is reported once per version, not every resync.
    await store.upsertProvider({
      id: 'resync-broken',
      config: JSON.stringify({ id: 'resync-broken' }),
      client_secret_enc: null,
      created_at: 1,
      updated_at: 1,
    })
    const reports = () => h.logs.filter((l) => l.includes('resync-broken') && l.includes('stored provider is invalid')).length
    await providerAdmin.loadAll()
    await providerAdmin.loadAll()
    expect(reports()).toBe(1)
    expect(ctx.registry.get('resync-broken')).toBeUndefined()

    await store.deleteProvider(id)
    await store.deleteProvider('resync-broken')
    await providerAdmin.loadAll()
    expect(ctx.registry.get(id)).toBeUndefined()
  })
})
