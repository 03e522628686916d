/**
 * Hostile and sloppy HTTP input against a real Latchkey server: every bad request is a 4xx with
 * Arcade's `{ name, message }` body (never a 500), API keys and roles are enforced, and pages and
 * API responses carry the security and caching headers they promise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

let h: Harness

interface Answer {
  status: number
  headers: Headers
  text: string
  json: Record<string, unknown> | undefined
}

async function call(
  method: string,
  path: string,
  init: { body?: string; contentType?: string; auth?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers }
  const auth = init.auth === undefined ? `Bearer ${h.apiKey}` : init.auth
  if (auth !== null) headers['authorization'] = auth
  if (init.contentType !== undefined) headers['content-type'] = init.contentType
  const r = await fetch(`${h.baseURL}${path}`, { method, headers, body: init.body ?? null })
  const text = await r.text()
  let json: Record<string, unknown> | undefined
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = undefined
  }
  return { status: r.status, headers: r.headers, text, json }
}

const post = (path: string, body: unknown, init: { auth?: string | null } = {}) =>
  call('POST', path, { body: typeof body === 'string' ? body : JSON.stringify(body), contentType: 'application/json', ...init })

/** A 4xx JSON error in Arcade's shape. */
function expectError(a: Answer, status: number, name?: string): void {
  expect(a.status, a.text).toBe(status)
  expect(a.headers.get('content-type')).toMatch(/^application\/json/)
  expect(a.json, a.text).toBeDefined()
  expect(typeof a.json!['name']).toBe('string')
  expect(typeof a.json!['message']).toBe('string')
  expect((a.json!['message'] as string).length).toBeGreaterThan(0)
  if (name !== undefined) expect(a.json!['name']).toBe(name)
}

const authorizeBody = (extra: Record<string, unknown> = {}) => ({
  user_id: 'input@example.com',
  auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } },
  ...extra,
})

let completedFlowId: string
let failedFlowId: string

beforeAll(async () => {
  h = await startHarness()
  // One completed and one failed flow, for long-poll clamping (both answer at once).
  const started = await post('/v1/auth/authorize', authorizeBody({ user_id: 'done@example.com' }))
  completedFlowId = started.json!['id'] as string
  await new TestBrowser().authorize(started.json!['url'] as string, { login: 'done' })
  const declined = await post('/v1/auth/authorize', authorizeBody({ user_id: 'declined@example.com' }))
  failedFlowId = declined.json!['id'] as string
  await new TestBrowser().authorize(declined.json!['url'] as string, { login: 'declined', decision: 'deny' })
})
afterAll(async () => h?.close())

describe('request bodies', () => {
  it('rejects malformed JSON with 400', async () => {
    expectError(await post('/v1/auth/authorize', '{"user_id": "a", '), 400, 'BAD_REQUEST')
    expectError(await post('/v1/auth/authorize', '{"user_id": "a"} trailing'), 400, 'BAD_REQUEST')
    expectError(await post('/v1/auth/authorize', '\u0000'), 400, 'BAD_REQUEST')
  })

  it('rejects wrong types with 400 and names the field', async () => {
    const userNumber = await post('/v1/auth/authorize', { ...authorizeBody(), user_id: 42 })
    expectError(userNumber, 400, 'BAD_REQUEST')
    expect(userNumber.json!['message']).toContain('user_id')
    const scopesString = await post(
      '/v1/auth/authorize',
      authorizeBody({ auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: 'openid' } } }),
    )
    expectError(scopesString, 400, 'BAD_REQUEST')
    expect(scopesString.json!['message']).toContain('scopes')
    const noRequirement = await post('/v1/auth/authorize', { user_id: 'a' })
    expectError(noRequirement, 400, 'BAD_REQUEST')
    expect(noRequirement.json!['message']).toContain('auth_requirement')
    expectError(await post('/v1/auth/authorize', []), 400, 'BAD_REQUEST')
    expectError(await post('/v1/auth/authorize', 'null'), 400, 'BAD_REQUEST')
    expectError(await post('/v1/auth/authorize', '"text"'), 400, 'BAD_REQUEST')
    expectError(await post('/v1/auth/authorize', { ...authorizeBody(), user_id: '' }), 400, 'BAD_REQUEST')
    const controlChar = await post('/v1/auth/authorize', { ...authorizeBody(), user_id: 'a\nb' })
    expectError(controlChar, 400, 'BAD_REQUEST')
    expect(controlChar.json!['message']).toBe('invalid request: user_id: must not contain control characters or unpaired surrogates')
    const loneSurrogate = await post(
      '/v1/auth/authorize',
      authorizeBody({ auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid', 'a\ud800'] } } }),
    )
    expectError(loneSurrogate, 400, 'BAD_REQUEST')
    expect(loneSurrogate.json!['message']).toBe(
      'invalid request: auth_requirement.oauth2.scopes[1]: must not contain control characters or unpaired surrogates',
    )
    // A surrogate pair is one printable character.
    expect((await post('/v1/auth/authorize', { ...authorizeBody(), user_id: 'emoji-\ud83d\ude00@example.com' })).status).toBe(200)
    // Types are checked, never coerced.
    expectError(
      await post('/v1/auth/authorize', authorizeBody({ auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: [7] } } })),
      400,
      'BAD_REQUEST',
    )
    expectError(
      await post('/v1/auth/authorize', authorizeBody({ auth_requirement: { provider_id: 'test-idp', provider_type: 'api_key' } })),
      400,
      'BAD_REQUEST',
    )
    expectError(await post('/v1/auth/confirm_user', { flow_id: 7, user_id: 'a' }), 400, 'BAD_REQUEST')
  })

  it('ignores prototype-pollution keys', async () => {
    const r = await post(
      '/v1/auth/authorize',
      '{"user_id":"proto","auth_requirement":{"provider_id":"test-idp"},"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
    )
    expect(r.status).toBeLessThan(500)
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined()
  })

  it('404s an unknown provider and 400s a requirement without one', async () => {
    expectError(
      await post('/v1/auth/authorize', authorizeBody({ auth_requirement: { provider_id: 'no-such-provider' } })),
      404,
      'PROVIDER_UNKNOWN',
    )
    expectError(await post('/v1/auth/authorize', authorizeBody({ auth_requirement: { id: 'no-such-provider' } })), 404, 'PROVIDER_UNKNOWN')
    expectError(await post('/v1/auth/authorize', authorizeBody({ auth_requirement: {} })), 400, 'BAD_REQUEST')
    expectError(
      await post('/v1/auth/authorize', authorizeBody({ auth_requirement: { oauth2: { scopes: ['openid'] } } })),
      400,
      'BAD_REQUEST',
    )
  })

  it('413s a body over the limit', async () => {
    const big = JSON.stringify(authorizeBody({ padding: 'x'.repeat(70 * 1024) }))
    expectError(await post('/v1/auth/authorize', big), 413, 'PAYLOAD_TOO_LARGE')
    // Just under the limit is parsed (and then fails validation or succeeds, but not 413).
    const fits = JSON.stringify(authorizeBody({ padding: 'x'.repeat(60 * 1024) }))
    expect((await post('/v1/auth/authorize', fits)).status).toBe(200)
  })

  it('415s a POST that is not JSON', async () => {
    expectError(
      await call('POST', '/v1/auth/authorize', { body: 'user_id=a', contentType: 'application/x-www-form-urlencoded' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    )
    expectError(await call('POST', '/v1/auth/authorize', { body: 'hello', contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    expectError(
      await call('POST', '/v1/auth/authorize', { body: '\u0001\u0002\u0003', contentType: 'application/octet-stream' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    )
    // A JSON type with parameters is still JSON.
    const withCharset = await call('POST', '/v1/auth/authorize', {
      body: JSON.stringify(authorizeBody()),
      contentType: 'application/json; charset=utf-8',
    })
    expect(withCharset.status).toBe(200)
  })

  it('400s a POST without a body', async () => {
    expectError(await call('POST', '/v1/auth/authorize', {}), 400)
    expectError(await call('POST', '/v1/auth/authorize', { body: '', contentType: 'application/json' }), 400, 'BAD_REQUEST')
    expectError(await call('POST', '/v1/auth/authorize', { body: '   ', contentType: 'application/json' }), 400, 'BAD_REQUEST')
  })
})

describe('next_uri', () => {
  it('refuses another origin and accepts the public origin', async () => {
    const evil = await post('/v1/auth/authorize', authorizeBody({ user_id: 'next@example.com', next_uri: 'https://evil.example/steal' }))
    expectError(evil, 400, 'INVALID_NEXT_URI')
    expectError(
      await post('/v1/auth/authorize', authorizeBody({ user_id: 'next@example.com', next_uri: 'javascript:alert(1)' })),
      400,
      'INVALID_NEXT_URI',
    )
    expectError(
      await post('/v1/auth/authorize', authorizeBody({ user_id: 'next@example.com', next_uri: '/relative' })),
      400,
      'INVALID_NEXT_URI',
    )
    // Same host, other port: another origin.
    const otherPort = new URL(h.baseURL)
    otherPort.port = String(Number(otherPort.port) + 1)
    expectError(
      await post('/v1/auth/authorize', authorizeBody({ user_id: 'next@example.com', next_uri: `${otherPort.origin}/done` })),
      400,
      'INVALID_NEXT_URI',
    )

    const ok = await post('/v1/auth/authorize', authorizeBody({ user_id: 'next@example.com', next_uri: `${h.baseURL}/done?x=1` }))
    expect(ok.status).toBe(200)
    expect(ok.json!['status']).toBe('pending')
    // After consent the browser goes to next_uri.
    const browser = new TestBrowser()
    const end = await browser.authorize(ok.json!['url'] as string, { login: 'next', stopAt: (u) => u.pathname === '/done' })
    expect(end.location).toBe(`${h.baseURL}/done?x=1`)
  })
})

describe('status long-poll parameters', () => {
  it('400s a negative or non-numeric wait, and a missing id', async () => {
    expectError(await call('GET', `/v1/auth/status?id=${completedFlowId}&wait=-1`), 400, 'BAD_REQUEST')
    expectError(await call('GET', `/v1/auth/status?id=${completedFlowId}&wait=abc`), 400, 'BAD_REQUEST')
    expectError(await call('GET', `/v1/auth/status?id=${completedFlowId}&wait=1.5`), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/auth/status'), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/auth/status?id='), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/auth/status?id=ac_unknown'), 404, 'FLOW_NOT_FOUND')
  })

  it('clamps a huge wait and answers a final flow at once', async () => {
    const t0 = Date.now()
    const completed = await call('GET', `/v1/auth/status?id=${completedFlowId}&wait=999`)
    expect(completed.status).toBe(200)
    expect(completed.json!['status']).toBe('completed')
    const failed = await call('GET', `/v1/auth/status?id=${failedFlowId}&wait=999`)
    expect(failed.status).toBe(200)
    expect(failed.json!['status']).toBe('failed')
    const huge = await call('GET', `/v1/auth/status?id=${failedFlowId}&wait=99999999999999999999`)
    expect(huge.status).toBeLessThan(500)
    expect(Date.now() - t0).toBeLessThan(5000)
  })
})

describe('API keys', () => {
  const health = () => call('GET', '/v1/providers', { auth: null })

  it('401s a missing or malformed key', async () => {
    expectError(await health(), 401, 'UNAUTHENTICATED')
    expectError(await call('GET', '/v1/providers', { auth: '' }), 401, 'UNAUTHENTICATED')
    expectError(await call('GET', '/v1/providers', { auth: 'Bearer ' }), 401, 'UNAUTHENTICATED')
    expectError(await call('GET', '/v1/providers', { auth: 'Bearer nonsense' }), 401, 'UNAUTHENTICATED')
    expectError(await call('GET', '/v1/providers', { auth: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'UNAUTHENTICATED')
    // Right id, wrong secret.
    const wrongSecret = h.apiKey.slice(0, -4) + (h.apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    expectError(await call('GET', '/v1/providers', { auth: wrongSecret }), 401, 'UNAUTHENTICATED')
    expectError(await post('/v1/auth/authorize', authorizeBody(), { auth: null }), 401, 'UNAUTHENTICATED')
  })

  it('accepts the raw key and the Bearer form', async () => {
    expect((await call('GET', '/v1/providers', { auth: h.apiKey })).status).toBe(200)
    expect((await call('GET', '/v1/providers', { auth: `Bearer ${h.apiKey}` })).status).toBe(200)
  })

  it('403s a runtime key on the admin API and lets it use the runtime API', async () => {
    const { key } = await h.latchkey.apiKeys.create({ name: 'runtime', role: 'runtime' })
    expect((await post('/v1/auth/authorize', authorizeBody({ user_id: 'rt@example.com' }), { auth: key })).status).toBe(200)
    expect((await call('GET', '/v1/providers', { auth: key })).status).toBe(200)
    expectError(await call('GET', '/v1/admin/api_keys', { auth: key }), 403, 'FORBIDDEN')
    expectError(await call('GET', '/v1/admin/user_connections', { auth: key }), 403, 'FORBIDDEN')
    expectError(await call('GET', '/v1/admin/auth_providers', { auth: key }), 403, 'FORBIDDEN')
    expectError(
      await call('POST', '/v1/admin/api_keys', {
        auth: key,
        body: JSON.stringify({ name: 'escalate', role: 'admin' }),
        contentType: 'application/json',
      }),
      403,
      'FORBIDDEN',
    )
  })

  it('401s a revoked key at once, even one that was just used (cached)', async () => {
    const { key, row } = await h.latchkey.apiKeys.create({ name: 'to-revoke', role: 'runtime' })
    expect((await call('GET', '/v1/providers', { auth: key })).status).toBe(200)
    // Arcade's Python SDK sends DELETE with a JSON content type and no body.
    const revoked = await call('DELETE', `/v1/admin/api_keys/${row.id}`, { contentType: 'application/json', body: '' })
    expect(revoked.status).toBe(200)
    expect(revoked.json!['status']).toBe('revoked')
    expectError(await call('GET', '/v1/providers', { auth: key }), 401, 'UNAUTHENTICATED')
    expectError(await call('DELETE', `/v1/admin/api_keys/${row.id}`, { contentType: 'application/json' }), 404, 'API_KEY_NOT_FOUND')
  })

  it('401s an expired key, including one that expires while cached', async () => {
    const expired = await h.latchkey.apiKeys.create({ name: 'expired', role: 'runtime', expiresAt: Date.now() - 1000 })
    expectError(await call('GET', '/v1/providers', { auth: expired.key }), 401, 'UNAUTHENTICATED')
    const soon = await h.latchkey.apiKeys.create({ name: 'expires-soon', role: 'runtime', expiresAt: Date.now() + 700 })
    expect((await call('GET', '/v1/providers', { auth: soon.key })).status).toBe(200)
    await new Promise((r) => setTimeout(r, 800))
    expectError(await call('GET', '/v1/providers', { auth: soon.key }), 401, 'UNAUTHENTICATED')
  })

  it('serves /v1/health without a key', async () => {
    const r = await call('GET', '/v1/health', { auth: null })
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ healthy: true })
  })
})

describe('routing', () => {
  it('404s an unknown route with JSON', async () => {
    expectError(await call('GET', '/v1/nope'), 404, 'NOT_FOUND')
    expectError(await call('GET', '/v1/nope', { auth: null }), 404, 'NOT_FOUND')
    expectError(await call('POST', '/v1/auth/nope', { body: '{}', contentType: 'application/json' }), 404, 'NOT_FOUND')
    const r = await call('GET', '/v1/nope?code=secret')
    expect(r.json!['message']).not.toContain('secret')
    // A wrong method on a known path.
    expect((await call('PUT', '/v1/auth/authorize', { body: '{}', contentType: 'application/json' })).status).toBe(404)
  })

  it('answers badly encoded or over-long paths with a JSON error', async () => {
    expectError(await call('GET', '/%ZZ'), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/admin/user_connections/%ZZ'), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/oauth/authorize/%ZZ', { auth: null }), 400, 'BAD_REQUEST')
    expectError(await call('GET', `/oauth/authorize/ac_${'a'.repeat(300)}`, { auth: null }), 404, 'NOT_FOUND')
    expectError(await call('GET', `/v1/auth/status?id=${completedFlowId}&id=${failedFlowId}`), 400, 'BAD_REQUEST')
    expectError(await call('GET', `/v1/auth/status?id=${completedFlowId}&wait=1&wait=2`), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/auth/status?id=%00'), 400, 'BAD_REQUEST')
    // Every scope runs the same first check: a public route, an unmatched path, an admin route.
    expectError(await call('GET', '/oauth/authorize/ac_x%00', { auth: null }), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/nope?q=%00', { auth: null }), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/admin/user_connections?user_id=%00'), 400, 'BAD_REQUEST')
    expectError(await call('GET', '/v1/admin/user_connections?limit=abc'), 400, 'BAD_REQUEST')
  })

  it('accepts DELETE with a JSON content type and an empty body', async () => {
    const c = (await h.latchkey.store.getConnection('done@example.com', 'test-idp'))!
    expect(c).toBeDefined()
    const r = await call('DELETE', `/v1/admin/user_connections/${c.id}`, { contentType: 'application/json', body: '' })
    expect(r.status).toBe(204)
    expect(await h.latchkey.store.getConnectionById(c.id)).toBeUndefined()
    // And without any body at all.
    expectError(
      await call('DELETE', `/v1/admin/user_connections/${c.id}`, { contentType: 'application/json' }),
      404,
      'CONNECTION_NOT_FOUND',
    )
  })
})

describe('response headers', () => {
  it('serves HTML pages with strict security headers', async () => {
    const pages = [
      await fetch(`${h.baseURL}/oauth/authorize/ac_doesnotexist`),
      await fetch(`${h.baseURL}/oauth/callback?code=x`),
      await fetch(`${h.baseURL}/oauth/callback?code=x&state=y`),
    ]
    for (const r of pages) {
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect(r.headers.get('content-type')).toMatch(/^text\/html/)
      const csp = r.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).toContain("default-src 'none'")
      expect(csp).not.toContain('unsafe-inline')
      expect(r.headers.get('x-frame-options')).toBe('DENY')
      expect(r.headers.get('referrer-policy')).toBe('no-referrer')
      expect(r.headers.get('cache-control')).toBe('no-store')
      expect(r.headers.get('x-content-type-options')).toBe('nosniff')
      await r.text()
    }
  })

  it('sends the redirect from the authorization link with the same headers', async () => {
    const started = await post('/v1/auth/authorize', authorizeBody({ user_id: 'headers@example.com' }))
    const link = started.json!['url'] as string
    const page = await fetch(link)
    expect(page.status).toBe(200)
    // The Continue form may post here and be redirected to the provider; nothing else.
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' https: ${new URL(h.idp.issuer).origin};`)
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(page.headers.get('referrer-policy')).toBe('same-origin')
    // A candidate binding for this browser only; nothing is bound until Continue.
    expect(page.headers.get('set-cookie')).toMatch(/HttpOnly/i)
    await page.text()
    const forged = await fetch(link, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    })
    expect(forged.status).toBe(403)
    expect(forged.headers.get('set-cookie')).toBeNull()
    await forged.text()
    const r = await fetch(link, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: new URL(link).origin, 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(r.status).toBe(303)
    expect(r.headers.get('referrer-policy')).toBe('no-referrer')
    expect(r.headers.get('cache-control')).toBe('no-store')
    const cookie = r.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    expect(cookie).toMatch(/Path=\/oauth/)
  })

  it('marks JSON API responses no-store, errors included', async () => {
    const answers = [
      await call('GET', '/v1/health', { auth: null }),
      await post('/v1/auth/authorize', authorizeBody()),
      await call('GET', `/v1/auth/status?id=${failedFlowId}`),
      await call('GET', '/v1/admin/user_connections'),
      await call('GET', '/v1/providers', { auth: null }),
      await post('/v1/auth/authorize', '{'),
      await call('GET', '/v1/nope'),
    ]
    for (const a of answers) {
      expect(a.headers.get('content-type')).toMatch(/^application\/json/)
      expect(a.headers.get('cache-control')).toBe('no-store')
    }
  })
})
