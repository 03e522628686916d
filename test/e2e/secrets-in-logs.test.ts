/**
 * No secret reaches the log, even at debug level: a complete flow, a forced refresh, a failed
 * code exchange and a failed refresh, with every log line Latchkey wrote searched for the access
 * and refresh tokens, the IdP client secret, the API key, the authorization code, the state, the
 * PKCE verifier and the browser-binding cookie.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

async function api(hh: Harness, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(`${hh.baseURL}${path}`, {
    method,
    headers: { authorization: hh.apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  })
  return (await r.json()) as Record<string, unknown>
}

function expectNoSecrets(hh: Harness, secrets: Record<string, string | undefined>): void {
  const lines = hh.logs.join('')
  for (const [what, value] of Object.entries(secrets)) {
    expect(value, `${what} was captured by the test`).toBeTruthy()
    expect(value!.length, `${what} is long enough to search for`).toBeGreaterThanOrEqual(8)
    const hit = hh.logs.find((l) => l.includes(value!))
    expect(hit, `${what} appears in the log`).toBeUndefined()
    // Also URL-encoded, as it would appear in a logged URL.
    expect(lines.includes(encodeURIComponent(value!)), `${what} (URL-encoded) appears in the log`).toBe(false)
  }
}

/** Starts a flow and clicks through consent up to (not into) the callback. */
async function toCallback(hh: Harness, user: string) {
  const started = await api(hh, 'POST', '/v1/auth/authorize', {
    user_id: user,
    auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid', 'profile', 'offline_access'] } },
  })
  const browser = new TestBrowser()
  const step = await browser.authorize(started['url'] as string, { login: user, stopAt: (u) => u.pathname === '/oauth/callback' })
  const callback = new URL(step.location!)
  const flow = (await hh.latchkey.store.getFlow(started['id'] as string))!
  const codeVerifier = hh.latchkey.ctx.vault.open({ table: 'flows', id: flow.id, field: 'code_verifier' }, flow.code_verifier_enc!)
  const binding = browser.cookieHeader(new URL(hh.baseURL))!.split('=').slice(1).join('=')
  return {
    flowId: started['id'] as string,
    browser,
    callback: callback.toString(),
    code: callback.searchParams.get('code')!,
    state: callback.searchParams.get('state')!,
    codeVerifier,
    binding,
  }
}

describe('secrets in logs', () => {
  it('logs none of the secrets of a complete flow and a forced refresh', async () => {
    h = await startHarness({ idp: { rotateRefreshToken: true } })
    const f = await toCallback(h, 'alice')
    const page = await f.browser.request(f.callback)
    expect(page.body).toContain('Connected')
    const done = await api(h, 'GET', `/v1/auth/status?id=${f.flowId}`)
    expect(done['status']).toBe('completed')
    const accessToken = (done['context'] as { token: string }).token

    const c = (await h.latchkey.store.getConnection('alice', 'test-idp'))!
    const refreshToken = h.latchkey.ctx.vault.open({ table: 'connections', id: c.id, field: 'refresh_token' }, c.refresh_token_enc!)

    const refreshed = await h.latchkey.ctx.refresher.refresh(c.id, { force: true })
    expect(refreshed.kind).toBe('fresh')
    expect(h.idp.tokenCalls.get('refresh_token')).toBe(1)
    const after = (await h.latchkey.store.getConnectionById(c.id))!
    const newAccessToken = h.latchkey.ctx.vault.open({ table: 'connections', id: c.id, field: 'access_token' }, after.access_token_enc)
    const newRefreshToken = h.latchkey.ctx.vault.open({ table: 'connections', id: c.id, field: 'refresh_token' }, after.refresh_token_enc!)
    expect(newAccessToken).not.toBe(accessToken)
    expect(newRefreshToken).not.toBe(refreshToken)
    // Hand the new token out too (the status and authorize paths log their requests).
    const again = await api(h, 'POST', '/v1/auth/authorize', {
      user_id: 'alice',
      auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } },
    })
    expect((again['context'] as { token: string }).token).toBe(newAccessToken)
    // Replay the callback: a logged rejection must not carry the code or state either.
    await f.browser.request(f.callback)
    await new TestBrowser().request(f.callback)

    await h.latchkey.close()
    // The log is really at debug level and saw the callback request.
    expect(h.logs.some((l) => l.includes('"level":20'))).toBe(true)
    expect(h.logs.some((l) => l.includes('/oauth/callback'))).toBe(true)
    expectNoSecrets(h, {
      accessToken,
      refreshToken,
      newAccessToken,
      newRefreshToken,
      clientSecret: h.idp.clientSecret,
      apiKey: h.apiKey,
      apiKeySecret: h.apiKey.slice(-43),
      code: f.code,
      state: f.state,
      codeVerifier: f.codeVerifier,
      bindingCookie: f.binding,
    })
  })

  it('logs none of the secrets of a failed code exchange or a failed refresh', async () => {
    h = await startHarness()
    // A failed code exchange.
    const bad = await toCallback(h, 'bob')
    h.idp.failTokenWith = { status: 400, error: 'invalid_grant' }
    const page = await bad.browser.request(bad.callback)
    expect(page.status).toBe(502)
    expect(h.idp.tokenCalls.get('failed')).toBe(1)
    const failed = await api(h, 'GET', `/v1/auth/status?id=${bad.flowId}`)
    expect(failed['status']).toBe('failed')
    expect(h.logs.some((l) => l.includes('code exchange failed'))).toBe(true)

    // A good flow, then a refresh the provider rejects.
    h.idp.failTokenWith = undefined
    const good = await toCallback(h, 'carol')
    expect((await good.browser.request(good.callback)).body).toContain('Connected')
    const c = (await h.latchkey.store.getConnection('carol', 'test-idp'))!
    const accessToken = h.latchkey.ctx.vault.open({ table: 'connections', id: c.id, field: 'access_token' }, c.access_token_enc)
    const refreshToken = h.latchkey.ctx.vault.open({ table: 'connections', id: c.id, field: 'refresh_token' }, c.refresh_token_enc!)
    h.idp.failTokenWith = { status: 400, error: 'invalid_grant' }
    const outcome = await h.latchkey.ctx.refresher.refresh(c.id, { force: true })
    expect(outcome.kind).toBe('reauth_required')
    // And a transient failure, which is logged differently.
    h.idp.failTokenWith = undefined
    const other = await toCallback(h, 'dave')
    expect((await other.browser.request(other.callback)).body).toContain('Connected')
    const d = (await h.latchkey.store.getConnection('dave', 'test-idp'))!
    const daveRefresh = h.latchkey.ctx.vault.open({ table: 'connections', id: d.id, field: 'refresh_token' }, d.refresh_token_enc!)
    h.idp.failTokenWith = { status: 503, error: 'temporarily_unavailable' }
    expect((await h.latchkey.ctx.refresher.refresh(d.id, { force: true })).kind).toBe('transient')

    await h.latchkey.close()
    expect(h.logs.some((l) => l.includes('refresh failed'))).toBe(true)
    expectNoSecrets(h, {
      clientSecret: h.idp.clientSecret,
      apiKey: h.apiKey,
      failedCode: bad.code,
      failedState: bad.state,
      failedCodeVerifier: bad.codeVerifier,
      code: good.code,
      state: good.state,
      accessToken,
      refreshToken,
      daveRefresh,
    })
  })
})
