/**
 * The proxy (`/v1/proxy/<provider>/<path>`) with real parts: a real OAuth server for tokens
 * (grant through a browser, refresh on a 401), a local API on 127.0.0.1 that accepts only tokens
 * the OAuth server vouches for, and a real Latchkey. The agent calls with its Latchkey key and
 * never sees the token; what crosses in each direction, where calls may go, selection, audit,
 * rate limit.
 */

import { request } from 'node:http'
import { Latchkey } from '@latchkey/client'
import { afterEach, describe, expect, it } from 'vitest'
import { systemResolve } from '../../src/oauth/outbound-guard.js'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, type HarnessOptions, startHarness } from '../helpers/latchkey.js'
import { startUpstreamApi, type UpstreamApi } from '../helpers/upstream-api.js'

let h: Harness | undefined
let up: UpstreamApi | undefined
afterEach(async () => {
  await h?.close()
  await up?.close()
  h = undefined
  up = undefined
})

async function connect(options: HarnessOptions = {}, user = 'alice') {
  const upstream = await startUpstreamApi(() => `${harness.idp.issuer}/me`)
  up = upstream
  const harness = await startHarness({
    providerEntries: (idp) => [{ ...idp.entry(), api_base_urls: [`${upstream.base}/api`, `${upstream.base}/other/`] }],
    ...options,
  })
  h = harness
  const client = new Latchkey({ apiKey: harness.apiKey, baseURL: harness.baseURL, maxRetries: 0 })
  const started = await client.auth.start(user, 'test-idp', { scopes: ['openid', 'profile', 'offline_access'] })
  await new TestBrowser().authorize(started.url!, { login: user })
  const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  const connection = (await harness.latchkey.store.getConnection(user, 'test-idp'))!
  return { h: harness, up: upstream, token: done.context!.token!, connection }
}

function call(
  hh: Harness,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: BodyInit; user?: string | null } = {},
) {
  const headers: Record<string, string> = { authorization: hh.apiKey, ...init.headers }
  if (init.user !== null) headers['latchkey-user-id'] = init.user ?? 'alice'
  return fetch(`${hh.baseURL}/v1/proxy/test-idp/${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: init.body, duplex: 'half' } : {}),
  } as RequestInit)
}

/** Ages the connection's token so a 401 may force a refresh (a brand-new token's 401 does not). */
const age = (hh: Harness, id: string) => hh.latchkey.store.updateConnection(id, { token_issued_at: Date.now() - 60_000 })
const refreshCalls = (hh: Harness) => hh.idp.tokenCalls.get('refresh_token') ?? 0

/** A GET with the path exactly as given (node:http sends it unchanged). */
function rawGet(hh: Harness, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${hh.baseURL}${path}`, { headers: { authorization: hh.apiKey, 'latchkey-user-id': 'alice' } }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.path = path
    req.on('error', reject)
    req.end()
  })
}

async function proxyAudit(hh: Harness) {
  await hh.latchkey.ctx.audit.flush()
  return (await hh.latchkey.store.listAudit({ action: 'proxy.request' }, 100, 0)).items
}

describe('proxy', () => {
  it('calls the API with the user’s token, which the agent never sees', async () => {
    const { h, up, token } = await connect()
    const r = await call(h, 'repos/octo/issues?state=open&q=secret-query-value', {
      headers: {
        cookie: 'agent-session=1',
        'latchkey-trace': 'not for the provider',
        'x-forwarded-for': '10.1.2.3',
        'x-custom': 'kept',
        accept: 'application/json',
      },
    })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { ok: boolean; path: string; query: string }
    expect(body).toMatchObject({ ok: true, path: '/api/repos/octo/issues', query: '?state=open&q=secret-query-value' })

    // Upstream: the user's token (which the IdP vouched for), not the Latchkey key, cookies or Latchkey-* headers.
    const got = up.received.at(-1)!
    expect(got.headers.authorization).toBe(`Bearer ${token}`)
    expect(got.headers.cookie).toBeUndefined()
    expect(got.headers['x-forwarded-for']).toBeUndefined()
    expect(Object.keys(got.headers).filter((k) => k.startsWith('latchkey-'))).toEqual([])
    expect(got.headers['x-custom']).toBe('kept')
    expect(JSON.stringify(got.headers)).not.toContain(h.apiKey)

    // Downstream: no Set-Cookie, no hop-by-hop header, no header carrying the token.
    expect(r.headers.get('set-cookie')).toBeNull()
    // (Latchkey's own server may send keep-alive for its connection; the provider's is not passed on.)
    expect(r.headers.get('keep-alive')).not.toBe('timeout=5')
    expect(r.headers.get('x-echo-authorization')).toBeNull()
    expect(r.headers.get('x-upstream')).toBe('yes')
    const all: string[] = []
    r.headers.forEach((v, k) => {
      all.push(`${k}: ${v}`)
    })
    expect(all.join('\n')).not.toContain(token)

    // Audited: method, host, path template, status — no query values, no token.
    const [entry] = await proxyAudit(h)
    expect(entry).toMatchObject({ actor: expect.any(String), user_id: 'alice', provider_id: 'test-idp' })
    expect(entry!.detail).toEqual({ method: 'GET', host: new URL(up.base).host, path: '/api/repos/octo/issues?state&q', status: 200 })
    expect(JSON.stringify(entry)).not.toContain('secret-query-value')
    expect(JSON.stringify(entry)).not.toContain(token)
    expect(h.logs.join('')).not.toContain(token)
  })

  it('streams request bodies upstream and answers HEAD, redirects (not followed) and any status', async () => {
    const { h, up } = await connect()
    const payload = JSON.stringify({ hello: 'world' })
    const post = await call(h, 'items', { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } })
    expect(post.status).toBe(200)
    expect(up.received.at(-1)).toMatchObject({ method: 'POST', body: payload })
    // No content-type and a text body: still forwarded as it is, not refused as "not JSON".
    const text = await call(h, 'items', { method: 'PATCH', body: 'plain words', headers: { 'content-type': 'text/plain' } })
    expect(text.status).toBe(200)
    expect(up.received.at(-1)).toMatchObject({ method: 'PATCH', body: 'plain words' })

    // The proxy's catch-all body parser is its own: the auth API still takes JSON only.
    const authorize = await fetch(`${h.baseURL}/v1/auth/authorize`, {
      method: 'POST',
      headers: { authorization: h.apiKey, 'content-type': 'text/plain' },
      body: 'plain words',
    })
    expect(authorize.status).toBe(415)

    const head = await call(h, 'items', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(up.received.at(-1)!.method).toBe('HEAD')

    // OPTIONS, with no body and with one (kept for a replay like any idempotent method's).
    const options = await call(h, 'items?x=1', { method: 'OPTIONS' })
    expect(options.status).toBe(200)
    expect(up.received.at(-1)).toMatchObject({ method: 'OPTIONS', url: '/api/items?x=1', bodyBytes: 0 })
    expect(options.headers.get('x-upstream')).toBe('yes')
    const withBody = await call(h, 'items', { method: 'OPTIONS', body: 'ask', headers: { 'content-type': 'text/plain' } })
    expect(withBody.status).toBe(200)
    expect(up.received.at(-1)).toMatchObject({ method: 'OPTIONS', body: 'ask' })

    const redirect = await fetch(`${h.baseURL}/v1/proxy/test-idp/redirect`, {
      headers: { authorization: h.apiKey, 'latchkey-user-id': 'alice' },
      redirect: 'manual',
    })
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe('https://elsewhere.example/')
  })

  it('forwards only under a declared API base URL and refuses paths that could leave it', async () => {
    const { h, up } = await connect()
    const before = up.received.length
    for (const path of [
      '..%2F..%2Fsecret',
      '%2e%2e/%2e%2e/admin',
      '../../other',
      'a/../../other',
      'a/./b',
      'a//b',
      '%2Fetc',
      'a%5Cb',
      'a\\b',
      'http:%2F%2Fevil.example%2F',
      'http://evil.example/',
      'a%01b',
    ]) {
      // Sent as written (fetch would normalise dot segments before sending).
      const r = await rawGet(h, `/v1/proxy/test-idp/${path}`)
      expect(r.status, path).toBe(400)
      expect(JSON.parse(r.body).name, path).toBe('BAD_REQUEST')
    }
    expect(up.received.length).toBe(before)

    // An '@' or a full URL in the path stays a path under the base.
    const at = await call(h, '@evil.example/x')
    expect(at.status).toBe(200)
    expect(up.received.at(-1)!.url).toBe('/api/@evil.example/x')

    // A long path (beyond the router's 200-character parameter limit) still goes through.
    const long = `${'segment/'.repeat(60)}end`
    expect((await call(h, long)).status).toBe(200)
    expect(up.received.at(-1)!.url).toBe(`/api/${long}`)

    // Another declared base, chosen by header; an undeclared one is refused.
    const other = await call(h, 'thing', { headers: { 'latchkey-api-base': `${up.base}/other` } })
    expect(other.status).toBe(200)
    expect(up.received.at(-1)!.url).toBe('/other/thing')
    const undeclared = await call(h, 'thing', { headers: { 'latchkey-api-base': 'https://evil.example' } })
    expect(undeclared.status).toBe(400)
  })

  it('refuses a provider without API base URLs, an address the outbound guard refuses, unknown users and accounts', async () => {
    // The API's name resolves to 127.0.0.2, which this server's outbound.allow_private (127.0.0.1
    // only, for the IdP) does not cover: the guard refuses it when the call is made.
    const guarded = await startUpstreamApi(() => `${harness.idp.issuer}/me`, '127.0.0.2')
    up = guarded
    const port = new URL(guarded.base).port
    const harness = await startHarness({
      env: { LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.1' },
      resolve: async (host) => (host === 'localhost' ? [{ address: '127.0.0.2', family: 4 }] : systemResolve(host)),
      providerEntries: (idp) => [{ ...idp.entry(), api_base_urls: [`http://localhost:${port}`] }, idp.entry('no-api')],
    })
    h = harness
    const client = new Latchkey({ apiKey: harness.apiKey, baseURL: harness.baseURL, maxRetries: 0 })
    const started = await client.auth.start('alice', 'test-idp', { scopes: ['openid', 'offline_access'] })
    await new TestBrowser().authorize(started.url!, { login: 'alice' })
    await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    const c = (await harness.latchkey.store.getConnection('alice', 'test-idp'))!

    const refused = await call(harness, 'x')
    expect(refused.status).toBe(502)
    expect(((await refused.json()) as { name: string }).name).toBe('UPSTREAM_REFUSED')
    expect(guarded.received).toEqual([])

    const noApi = await fetch(`${harness.baseURL}/v1/proxy/no-api/x`, {
      headers: { authorization: harness.apiKey, 'latchkey-user-id': 'alice' },
    })
    expect(noApi.status).toBe(400)
    expect(((await noApi.json()) as { name: string }).name).toBe('PROVIDER_NO_API')

    const name = async (r: Response) => [r.status, ((await r.json()) as { name: string }).name]
    expect(await name(await call(harness, 'x', { user: null }))).toEqual([400, 'BAD_REQUEST'])
    expect(await name(await call(harness, 'x', { user: 'bob' }))).toEqual([404, 'CONNECTION_NOT_FOUND'])
    expect(await name(await call(harness, 'x', { headers: { 'latchkey-connection-id': 'cn_other' } }))).toEqual([
      404,
      'CONNECTION_NOT_FOUND',
    ])
    expect(await name(await call(harness, 'x', { headers: { 'latchkey-account': 'someone-else' } }))).toEqual([404, 'CONNECTION_NOT_FOUND'])
    // The right connection id or account gets as far as the (refused) upstream.
    expect((await call(harness, 'x', { headers: { 'latchkey-connection-id': c.id } })).status).toBe(502)
    expect((await call(harness, 'x', { headers: { 'latchkey-account': c.account_id! } })).status).toBe(502)
    expect(
      await name(
        await fetch(`${harness.baseURL}/v1/proxy/nope/x`, { headers: { authorization: harness.apiKey, 'latchkey-user-id': 'alice' } }),
      ),
    ).toEqual([404, 'PROVIDER_UNKNOWN'])
    expect(await name(await fetch(`${harness.baseURL}/v1/proxy/test-idp/x`, { headers: { 'latchkey-user-id': 'alice' } }))).toEqual([
      401,
      'UNAUTHENTICATED',
    ])

    // A reauth-required connection is not used.
    await harness.latchkey.store.updateConnection(c.id, { status: 'reauth_required' })
    expect(await name(await call(harness, 'x'))).toEqual([409, 'CONNECTION_REAUTH_REQUIRED'])
  })

  it('resolves an API host once per 5 s before sending, and still refuses a name that rebinds at connect time', async () => {
    const first = await startUpstreamApi(() => `${harness.idp.issuer}/me`)
    up = first
    const other = await startUpstreamApi(() => `${harness.idp.issuer}/me`, '127.0.0.2')
    let address = '127.0.0.1'
    let lookups = 0
    const harness = await startHarness({
      env: { LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.1' },
      resolve: async (host) => {
        if (host !== 'localhost') return systemResolve(host)
        lookups++
        return [{ address, family: 4 }]
      },
      providerEntries: (idp) => [
        { ...idp.entry(), api_base_urls: [`http://localhost:${new URL(first.base).port}`, `http://localhost:${new URL(other.base).port}`] },
      ],
    })
    h = harness
    try {
      const client = new Latchkey({ apiKey: harness.apiKey, baseURL: harness.baseURL, maxRetries: 0 })
      const started = await client.auth.start('alice', 'test-idp', { scopes: ['openid', 'offline_access'] })
      await new TestBrowser().authorize(started.url!, { login: 'alice' })
      await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })

      for (let i = 0; i < 3; i++) expect((await call(harness, 'me')).status).toBe(200)
      // One check before the first call and one lookup when its connection opened; the other two calls none.
      expect(lookups).toBe(2)

      // The name now resolves to an address the guard refuses. The check before sending is still
      // remembered, but a new connection (another port) resolves again and is refused.
      address = '127.0.0.2'
      const rebound = await call(harness, 'me', { headers: { 'latchkey-api-base': `http://localhost:${new URL(other.base).port}` } })
      expect(rebound.status).toBe(502)
      expect(((await rebound.json()) as { name: string }).name).toBe('UPSTREAM_REFUSED')
      expect(other.received).toEqual([])
    } finally {
      await other.close()
    }
  })

  it('refuses, when the configuration loads, an API base URL that is not https or is a literal private address', async () => {
    const entry = (urls: string[]) => (idp: { entry(): Record<string, unknown> }) => [{ ...idp.entry(), api_base_urls: urls }]
    await expect(
      startHarness({ env: { LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.1' }, providerEntries: entry(['http://127.0.0.2:1']) }),
    ).rejects.toThrow(/api_base_urls\[0\].*127\.0\.0\.2 is a loopback address/)
    await expect(startHarness({ providerEntries: entry(['http://api.example.com']) })).rejects.toThrow(/api_base_urls\[0\].*must use https/)
    await expect(startHarness({ providerEntries: entry(['https://api.example.com/v1?key=x']) })).rejects.toThrow(/query or fragment/)
  })

  it('applies the per-key rate limit', async () => {
    const { h } = await connect({ config: { rateLimit: { perMinute: 5 } } })
    // The flow used some of the window already; within a few calls the limit answers.
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await call(h, 'x')).status)
    expect(statuses).toContain(429)
    const r = await call(h, 'x')
    expect(r.status).toBe(429)
    expect(r.headers.get('retry-after')).not.toBeNull()
  })
})

describe('proxy: refresh on a 401', () => {
  it('refreshes once and repeats the call when the API rejects the token', async () => {
    const { h, up, token, connection } = await connect()
    await age(h, connection.id)
    up.rejected.add(token)
    const r = await call(h, 'me')
    expect(r.status).toBe(200)
    expect(refreshCalls(h)).toBe(1)
    const [first, second] = up.received.slice(-2)
    expect(first!.headers.authorization).toBe(`Bearer ${token}`)
    expect(second!.headers.authorization).not.toBe(`Bearer ${token}`)
    const [entry] = await proxyAudit(h)
    expect(entry!.detail).toMatchObject({ method: 'GET', status: 200, retried: true })
  })

  it('refreshes exactly once for 10 concurrent rejected calls, and repeats a small PUT body', async () => {
    const { h, up, token, connection } = await connect()
    await age(h, connection.id)
    up.rejected.add(token)
    h.idp.tokenDelayMs = 100
    const results = await Promise.all(Array.from({ length: 10 }, () => call(h, 'me')))
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200))
    expect(refreshCalls(h)).toBe(1)

    const fresh = (await h.latchkey.store.getConnectionById(connection.id))!
    await age(h, fresh.id)
    const current = up.received.at(-1)!.headers.authorization!.slice(7)
    up.rejected.add(current)
    const put = await call(h, 'doc', { method: 'PUT', body: 'replayable body', headers: { 'content-type': 'text/plain' } })
    expect(put.status).toBe(200)
    expect(refreshCalls(h)).toBe(2)
    const [a, b] = up.received.slice(-2)
    expect([a!.body, b!.body]).toEqual(['replayable body', 'replayable body'])
  })

  it('passes a 401 of a POST through (not repeatable) and still refreshes for the next call', async () => {
    const { h, up, token, connection } = await connect()
    await age(h, connection.id)
    up.rejected.add(token)
    const post = await call(h, 'items', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    expect(post.status).toBe(401)
    expect(post.headers.get('www-authenticate')).toContain('invalid_token')
    await expect.poll(() => refreshCalls(h)).toBe(1)
    const next = await call(h, 'items', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    expect(next.status).toBe(200)
    expect(up.received.filter((r) => r.method === 'POST')).toHaveLength(2)
  })

  it('does not refresh for a 401 of a brand-new token (an API that rejects every token costs no refresh per call)', async () => {
    const { h, up, token } = await connect()
    up.rejected.add(token)
    const r = await call(h, 'me')
    expect(r.status).toBe(401)
    expect(refreshCalls(h)).toBe(0)
  })
})

describe('proxy: an API host that comes with each connection', () => {
  const perConnection: HarnessOptions = {
    providerEntries: (idp) => [{ ...idp.entry(), connection_api_base: { user_info: 'instance_url', path: '/api', hosts: ['127.0.0.1'] } }],
  }

  it('forwards to the origin kept on the connection, only when its host is allowed', async () => {
    const { h, up, connection } = await connect(perConnection)
    // What the token response's `keep` would have stored (the test IdP sends no instance_url).
    const keep = async (instance_url?: string) => {
      await h.latchkey.store.updateConnection(connection.id, { user_info: { ...connection.user_info, instance_url } })
      h.latchkey.ctx.connectionCache.drop(connection.id)
    }
    // Before the value is known: refused, nothing sent.
    await keep(undefined)
    const unknown = await call(h, 'items')
    expect(unknown.status).toBe(502)
    expect(((await unknown.json()) as { name: string }).name).toBe('UPSTREAM_REFUSED')
    expect(up.received).toHaveLength(0)

    await keep(up.base)
    const ok = await call(h, 'items?x=1')
    expect(ok.status).toBe(200)
    expect(up.received.at(-1)).toMatchObject({ method: 'GET', url: '/api/items?x=1' })
    // The path checks hold as for declared bases.
    expect((await rawGet(h, '/v1/proxy/test-idp/..%2Fsecret')).status).toBe(400)

    // A host outside the provider's patterns (here: another name for the same machine) is refused.
    for (const bad of [up.base.replace('127.0.0.1', 'localhost'), `${up.base}/elsewhere`, `ftp://127.0.0.1`]) {
      await keep(bad)
      const before = up.received.length
      const r = await call(h, 'items')
      expect(r.status, bad).toBe(502)
      expect(up.received.length).toBe(before)
    }
  })
})
