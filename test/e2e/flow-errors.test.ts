/**
 * The unhappy paths of the browser side of a flow, against a real Latchkey and a real OAuth
 * server: tampered, missing and replayed callbacks, expired flows, stale or unknown links, a
 * provider error carrying markup, browser binding, and the `custom` and `skip` verification modes.
 */
import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hashState } from '../../src/crypto/state-hash.js'
import { type BrowserStep, TestBrowser } from '../helpers/browser.js'
import { type Harness, type HarnessOptions, startHarness } from '../helpers/latchkey.js'

interface Started {
  id: string
  status: string
  url?: string
  context?: { token?: string }
  error?: { code: string; message: string }
}

async function api(h: Harness, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${h.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${h.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}

async function start(h: Harness, user: string, scopes = ['openid']): Promise<Started> {
  const r = await api(h, 'POST', '/v1/auth/authorize', { user_id: user, auth_requirement: { provider_id: 'test-idp', oauth2: { scopes } } })
  expect(r.status).toBe(200)
  return r.json as unknown as Started
}

async function flowStatus(h: Harness, id: string): Promise<Started> {
  const r = await api(h, 'GET', `/v1/auth/status?id=${encodeURIComponent(id)}`)
  expect(r.status).toBe(200)
  return r.json as unknown as Started
}

const isCallback = (u: URL) => u.pathname === '/oauth/callback'

/** Clicks through sign-in and consent and returns the callback URL, not yet delivered. */
async function callbackUrl(browser: TestBrowser, link: string, login: string): Promise<string> {
  const step = await browser.authorize(link, { login, stopAt: isCallback })
  expect(step.location, 'the IdP redirects to the callback').toBeDefined()
  expect(isCallback(new URL(step.location!))).toBe(true)
  return step.location!
}

function expectHtmlPage(step: BrowserStep, status: number): void {
  expect(step.status).toBe(status)
  expect(step.body).toMatch(/^<!doctype html>/i)
  expect(() => JSON.parse(step.body)).toThrow()
}

async function storedAccessToken(h: Harness, user: string): Promise<{ token: string; updatedAt: number } | undefined> {
  const c = await h.latchkey.store.getConnection(user, 'test-idp')
  if (!c) return undefined
  return {
    token: h.latchkey.ctx.vault.open({ table: 'connections', id: c.id, field: 'access_token' }, c.access_token_enc),
    updatedAt: c.updated_at,
  }
}

const codeGrants = (h: Harness) => h.idp.tokenCalls.get('authorization_code') ?? 0

describe('callback errors (browser verification)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h?.close())

  it('refuses a callback whose state was tampered with, and leaves the flow pending', async () => {
    const started = await start(h, 'tamper')
    const browser = new TestBrowser()
    const cb = new URL(await callbackUrl(browser, started.url!, 'tamper'))
    const state = cb.searchParams.get('state')!
    const tampered = new URL(cb)
    tampered.searchParams.set('state', (state[0] === 'A' ? 'B' : 'A') + state.slice(1))
    const grants = codeGrants(h)
    const page = await browser.request(tampered.toString())
    expectHtmlPage(page, 400)
    expect(page.body).not.toContain(state)
    expect((await flowStatus(h, started.id)).status).toBe('pending')
    expect(codeGrants(h)).toBe(grants)
    // The genuine response still completes the flow.
    const ok = await browser.request(cb.toString())
    expect(ok.status).toBe(200)
    expect((await flowStatus(h, started.id)).status).toBe('completed')
  })

  it('stores the state only as its hash and encrypted (no column holds it)', async () => {
    const started = await start(h, 'at-rest')
    const cb = new URL(await callbackUrl(new TestBrowser(), started.url!, 'at-rest'))
    const state = cb.searchParams.get('state')!
    const row = await h.latchkey.store.getFlow(started.id)
    expect(Object.values(row!).some((v) => typeof v === 'string' && v.includes(state))).toBe(false)
    expect(row!.state_hash).toBe(hashState(state))
  })

  it('refuses an iss of another issuer on the same host (RFC 9207: exact issuer, not only its origin)', async () => {
    const started = await start(h, 'mixup')
    const browser = new TestBrowser()
    const cb = new URL(await callbackUrl(browser, started.url!, 'mixup'))
    expect(cb.searchParams.get('iss')).toBe(h.idp.issuer)
    const other = new URL(cb)
    other.searchParams.set('iss', `${h.idp.issuer}/tenants/other`)
    const grants = codeGrants(h)
    const page = await browser.request(other.toString())
    expectHtmlPage(page, 502)
    expect(codeGrants(h)).toBe(grants)
    expect((await flowStatus(h, started.id)).status).toBe('failed')
  })

  it('refuses a callback without state (and with a repeated state)', async () => {
    const browser = new TestBrowser()
    const missing = await browser.request(`${h.baseURL}/oauth/callback?code=abc`)
    expectHtmlPage(missing, 400)
    expect(missing.body).toContain('state')
    const empty = await browser.request(`${h.baseURL}/oauth/callback?code=abc&state=`)
    expectHtmlPage(empty, 400)

    const started = await start(h, 'twostates')
    const cb = new URL(await callbackUrl(browser, started.url!, 'twostates'))
    cb.searchParams.append('state', cb.searchParams.get('state')!)
    const twice = await browser.request(cb.toString())
    expectHtmlPage(twice, 400)
    expect((await flowStatus(h, started.id)).status).toBe('pending')
  })

  it('answers a replayed callback with an "already" page and does not touch the stored token', async () => {
    const started = await start(h, 'replay')
    const browser = new TestBrowser()
    const cb = await callbackUrl(browser, started.url!, 'replay')
    const first = await browser.request(cb)
    expect(first.status).toBe(200)
    expect(first.body).toContain('Connected')
    const stored = await storedAccessToken(h, 'replay')
    expect(stored).toBeDefined()
    const grants = codeGrants(h)

    const second = await browser.request(cb)
    expect(second.status).toBeLessThan(500)
    expect(second.body).toMatch(/^<!doctype html>/i)
    expect(second.body).toMatch(/already/i)
    // Replayed in another browser as well.
    const elsewhere = await new TestBrowser().request(cb)
    expect(elsewhere.status).toBeLessThan(500)
    expect(elsewhere.body).toMatch(/already/i)

    expect(codeGrants(h)).toBe(grants)
    expect(await storedAccessToken(h, 'replay')).toEqual(stored)
    const done = await flowStatus(h, started.id)
    expect(done.status).toBe('completed')
    expect(done.context?.token).toBe(stored!.token)
  })

  it('answers the authorization link with HTML pages for unknown, malformed, completed and ended flows', async () => {
    const browser = new TestBrowser()
    const unknown = await browser.request(`${h.baseURL}/oauth/authorize/ac_doesnotexist`)
    expectHtmlPage(unknown, 404)
    const malformed = await browser.request(`${h.baseURL}/oauth/authorize/${encodeURIComponent('ac_<b>x</b>')}`)
    expectHtmlPage(malformed, 404)
    expect(malformed.body).not.toContain('<b>')

    // Completed.
    const started = await start(h, 'linkdone')
    const cb = await callbackUrl(browser, started.url!, 'linkdone')
    expect((await browser.request(cb)).status).toBe(200)
    const again = await browser.request(started.url!)
    expect(again.location).toBeUndefined()
    expectHtmlPage(again, 200)
    expect(again.body).toMatch(/already/i)
    const otherBrowser = await new TestBrowser().request(started.url!)
    expect(otherBrowser.location).toBeUndefined()
    expect(otherBrowser.body).toMatch(/^<!doctype html>/i)

    // Ended (declined).
    const declined = await start(h, 'linkdeclined')
    const b2 = new TestBrowser()
    const page = await b2.authorize(declined.url!, { login: 'linkdeclined', decision: 'deny' })
    expect(page.body).toContain('declined')
    expect((await flowStatus(h, declined.id)).status).toBe('failed')
    const ended = await b2.request(declined.url!)
    expect(ended.location).toBeUndefined()
    expect(ended.status).toBeGreaterThanOrEqual(400)
    expect(ended.status).toBeLessThan(500)
    expect(ended.body).toMatch(/^<!doctype html>/i)
    expect(ended.body).toMatch(/ended|expired|used/i)
  })

  it('shows a provider error description as escaped text', async () => {
    const started = await start(h, 'xss')
    const browser = new TestBrowser()
    const cb = new URL(await callbackUrl(browser, started.url!, 'xss'))
    const evil = new URL(`${h.baseURL}/oauth/callback`)
    evil.searchParams.set('state', cb.searchParams.get('state')!)
    evil.searchParams.set('error', 'server_error')
    evil.searchParams.set('error_description', '<script>alert(1)</script>')
    const grants = codeGrants(h)
    const page = await browser.request(evil.toString())
    expect(page.status).toBeGreaterThanOrEqual(400)
    expect(page.body).toMatch(/^<!doctype html>/i)
    expect(page.body).not.toMatch(/<script/i)
    expect(page.body).toContain('&#60;script&#62;alert(1)&#60;&#47;script&#62;')
    const failed = await flowStatus(h, started.id)
    expect(failed.status).toBe('failed')
    expect(failed.error?.code).toBe('server_error')
    expect(codeGrants(h)).toBe(grants)
  })

  it('escapes markup in the provider error code too', async () => {
    const started = await start(h, 'xss2')
    const browser = new TestBrowser()
    const cb = new URL(await callbackUrl(browser, started.url!, 'xss2'))
    const evil = new URL(`${h.baseURL}/oauth/callback`)
    evil.searchParams.set('state', cb.searchParams.get('state')!)
    evil.searchParams.set('error', '<img src=x onerror=alert(1)>')
    const page = await browser.request(evil.toString())
    expect(page.status).toBeLessThan(600)
    expect(page.body).not.toMatch(/<img/i)
    const failed = await flowStatus(h, started.id)
    expect(failed.status).toBe('failed')
    // Not an RFC 6749 code: reported as provider_error, with the code the provider sent in the message.
    expect(failed.error).toEqual({ code: 'provider_error', message: '<img src=x onerror=alert(1)>' })
  })

  it('binds the link to the first browser: another browser gets 403, its callback is refused, the first still completes', async () => {
    const started = await start(h, 'binding')
    // A link preview or mail scanner fetches the link first: it sees the Continue page and claims nothing.
    const scanner = await new TestBrowser().request(started.url!)
    expectHtmlPage(scanner, 200)
    expect(scanner.body).toContain('Continue to')
    expect(scanner.location).toBeUndefined()

    const a = new TestBrowser()
    await a.request(started.url!)
    // Continue pressed twice before the first answer arrived: both go on (same candidate binding).
    const [opened, twice] = await Promise.all([a.request(started.url!, { method: 'POST' }), a.request(started.url!, { method: 'POST' })])
    expect(opened.status).toBe(303)
    expect(twice.status).toBe(303)
    expect(new URL(opened.location!).origin).toBe(h.idp.issuer)
    // The bound browser may open the link again and goes straight on.
    const reopened = await a.request(started.url!)
    expect(reopened.status).toBe(303)

    const b = new TestBrowser()
    const stolen = await b.request(started.url!)
    expectHtmlPage(stolen, 403)
    expect(stolen.location).toBeUndefined()
    expectHtmlPage(await b.request(started.url!, { method: 'POST' }), 403)

    const cb = await callbackUrl(a, opened.location!, 'binding')
    const grants = codeGrants(h)
    const inB = await b.request(cb)
    expectHtmlPage(inB, 403)
    expect(codeGrants(h)).toBe(grants)
    expect((await flowStatus(h, started.id)).status).toBe('pending')
    expect(await h.latchkey.store.getConnection('binding', 'test-idp')).toBeUndefined()

    const inA = await a.request(cb)
    expect(inA.status).toBe(200)
    expect(inA.body).toContain('Connected')
    const done = await flowStatus(h, started.id)
    expect(done.status).toBe('completed')
    expect(done.context?.token).toBeTruthy()
  })

  it('binds only a value it issued: a binding value the browser brings along is never adopted', async () => {
    const started = await start(h, 'planted')
    const id = started.id
    const planted = 'attacker-chosen-binding-value-0123456789abcdef'
    const hash = (v: string) => createHash('sha256').update(v).digest('base64url')
    const send = (method: 'GET' | 'POST') =>
      fetch(started.url!, {
        method,
        redirect: 'manual',
        headers: { cookie: `lk_${id}=${planted}`, ...(method === 'POST' ? { origin: h.baseURL } : {}) },
      })
    const setValue = (r: Response) => /^lk_[^=]+=([^;]+)/.exec(r.headers.getSetCookie().join('\n'))?.[1]

    const page = await send('GET')
    expect(page.status).toBe(200)
    const candidate = setValue(page)
    expect(candidate).toBeDefined()
    expect(candidate).not.toBe(planted)

    const continued = await send('POST')
    expect(continued.status).toBe(303)
    const bound = setValue(continued)
    expect(bound).toBeDefined()
    const flow = (await h.latchkey.store.getFlow(id))!
    expect(flow.browser_binding).not.toBe(hash(planted))
    expect(flow.browser_binding).toBe(hash(bound!))
  })

  it('a link someone continued on and gave up is not handed out again: the next authorize gives a new link that works anywhere', async () => {
    const started = await start(h, 'gave-up')
    const a = new TestBrowser()
    const opened = await a.openLink(started.url!)
    expect(opened.status).toBe(303)
    // The person closes the tab at the provider. Another browser is told how to go on.
    const b = new TestBrowser()
    const elsewhere = await b.openLink(started.url!)
    expectHtmlPage(elsewhere, 403)
    expect(elsewhere.body).toMatch(/new link/i)

    const again = await start(h, 'gave-up')
    expect(again.status).toBe('pending')
    expect(again.id).not.toBe(started.id)
    expect(again.url).not.toBe(started.url)
    // Identical requests share the new, unopened link.
    expect((await start(h, 'gave-up')).id).toBe(again.id)
    const cb = await callbackUrl(b, again.url!, 'gave-up')
    expect((await b.request(cb)).body).toContain('Connected')
    expect((await flowStatus(h, again.id)).status).toBe('completed')
  })
})

describe('expired flows', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ config: { flowTtlSeconds: 2 } })
  })
  afterAll(async () => h?.close())

  const waitUntilExpired = async (id: string) => {
    const flow = (await h.latchkey.store.getFlow(id))!
    const ms = flow.expires_at - Date.now() + 50
    if (ms > 0) await new Promise((r) => setTimeout(r, ms))
  }

  it('answers a callback for an expired flow with 410, and status says failed/expired', async () => {
    const started = await start(h, 'late')
    const browser = new TestBrowser()
    const cb = await callbackUrl(browser, started.url!, 'late')
    await waitUntilExpired(started.id)
    const page = await browser.request(cb)
    expectHtmlPage(page, 410)
    expect(page.body).toMatch(/expired/i)
    const s = await flowStatus(h, started.id)
    expect(s.status).toBe('failed')
    expect(s.error?.code).toBe('expired')
    expect(s.url).toBeUndefined()
    expect(h.idp.tokenCalls.get('authorization_code') ?? 0).toBe(0)
    // And the link now says so too, as a page.
    const link = await browser.request(started.url!)
    expectHtmlPage(link, 410)
  })

  it('answers an expired, never-opened link with a 410 page', async () => {
    const started = await start(h, 'never')
    await waitUntilExpired(started.id)
    const page = await new TestBrowser().request(started.url!)
    expectHtmlPage(page, 410)
    expect(page.location).toBeUndefined()
    const s = await flowStatus(h, started.id)
    expect(s.status).toBe('failed')
    expect(s.error?.code).toBe('expired')
  })

  it('reports expiry through status alone, and a new authorize opens a new flow', async () => {
    const started = await start(h, 'idle')
    await waitUntilExpired(started.id)
    const s = await flowStatus(h, started.id)
    expect(s.status).toBe('failed')
    expect(s.error?.code).toBe('expired')
    const again = await start(h, 'idle')
    expect(again.status).toBe('pending')
    expect(again.id).not.toBe(started.id)
  })
})

describe('verification modes', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })
  const custom: HarnessOptions = { env: { LATCHKEY_VERIFICATION: 'custom', LATCHKEY_VERIFIER_URL: 'http://127.0.0.1:1/verify' } }

  async function consentedCustom(hh: Harness, user: string, login: string, browser = new TestBrowser()): Promise<Started> {
    const started = await start(hh, user)
    const cb = await callbackUrl(browser, started.url!, login)
    const landed = await browser.request(cb)
    expect(landed.status).toBe(303)
    const verifier = new URL(landed.location!)
    expect(`${verifier.origin}${verifier.pathname}`).toBe('http://127.0.0.1:1/verify')
    expect(verifier.searchParams.get('flow_id')).toBe(started.id)
    expect(landed.body).toBe('')
    return started
  }

  it('custom: holds the grant until confirm_user, refuses the wrong user and fails the flow', async () => {
    h = await startHarness(custom)
    const started = await consentedCustom(h, 'victim@example.com', 'mallory')
    const pending = await flowStatus(h, started.id)
    expect(pending.status).toBe('pending')
    expect(pending.context?.token).toBeUndefined()
    expect(await h.latchkey.store.getConnection('victim@example.com', 'test-idp')).toBeUndefined()

    const wrong = await api(h, 'POST', '/v1/auth/confirm_user', { flow_id: started.id, user_id: 'mallory@example.com' })
    expect(wrong.status).toBe(400)
    expect(wrong.json).toMatchObject({ error: 'user_mismatch', code: 400 })
    expect(typeof wrong.json['name']).toBe('string')
    expect(typeof wrong.json['message']).toBe('string')
    const failed = await flowStatus(h, started.id)
    expect(failed.status).toBe('failed')
    expect(failed.error?.code).toBe('user_mismatch')
    expect(failed.context).toBeUndefined()
    expect(await h.latchkey.store.getConnection('victim@example.com', 'test-idp')).toBeUndefined()
    // The right user cannot rescue a failed flow either.
    const late = await api(h, 'POST', '/v1/auth/confirm_user', { flow_id: started.id, user_id: 'victim@example.com' })
    expect(late.status).toBe(400)
    expect((await flowStatus(h, started.id)).status).toBe('failed')

    const victimBrowser = new TestBrowser()
    const second = await consentedCustom(h, 'victim@example.com', 'victim', victimBrowser)
    expect(second.id).not.toBe(started.id)
    // Before confirming, the verifier can show which provider account is being connected.
    const waiting = await api(h, 'GET', `/v1/auth/verification?flow_id=${second.id}`)
    expect(waiting.status).toBe(200)
    expect(waiting.json).toMatchObject({
      flow_id: second.id,
      user_id: 'victim@example.com',
      provider_id: 'test-idp',
      account: { id: 'victim' },
      confirmed: false,
    })
    const ok = await api(h, 'POST', '/v1/auth/confirm_user', { flow_id: second.id, user_id: 'victim@example.com' })
    expect(ok.status).toBe(200)
    expect(ok.json).toEqual({ auth_id: second.id, next_uri: `${h.baseURL}/oauth/confirm/${second.id}` })
    // Confirmed, but usable only once the browser that consented arrives at next_uri.
    expect((await flowStatus(h, second.id)).status).toBe('pending')
    const arrived = await victimBrowser.request(ok.json['next_uri'] as string)
    expectHtmlPage(arrived, 200)
    expect(arrived.body).toContain('Connected')
    const done = await flowStatus(h, second.id)
    expect(done.status).toBe('completed')
    expect(done.context?.token).toBeTruthy()
    const me = await fetch(`${h.idp.issuer}/me`, { headers: { authorization: `Bearer ${done.context!.token!}` } })
    expect(me.status).toBe(200)
  })

  it("custom: an attacker who consents on the victim's link and makes the victim's browser open the verifier attaches nothing", async () => {
    h = await startHarness(custom)
    // Mallory got hold of the victim's link and consents there with her own provider account.
    const started = await consentedCustom(h, 'victim@example.com', 'mallory')
    const waiting = await api(h, 'GET', `/v1/auth/verification?flow_id=${started.id}`)
    expect(waiting.json).toMatchObject({ account: { id: 'mallory' } })
    // She makes the victim's browser open the verifier URL (a plain GET); the app, seeing the
    // victim signed in, confirms the victim and sends that browser on to next_uri.
    const victimBrowser = new TestBrowser()
    const ok = await api(h, 'POST', '/v1/auth/confirm_user', { flow_id: started.id, user_id: 'victim@example.com' })
    expect(ok.status).toBe(200)
    const landed = await victimBrowser.request(ok.json['next_uri'] as string)
    expectHtmlPage(landed, 403)
    expect(landed.body).toMatch(/nothing was connected/i)
    expect(await h.latchkey.store.getConnection('victim@example.com', 'test-idp')).toBeUndefined()
    const failed = await flowStatus(h, started.id)
    expect(failed.status).toBe('failed')
    expect(failed.context).toBeUndefined()
  })

  it('custom: a used link and a replayed callback get HTML pages while the grant waits', async () => {
    h = await startHarness(custom)
    const started = await start(h, 'waiting@example.com')
    const browser = new TestBrowser()
    const cb = await callbackUrl(browser, started.url!, 'waiting')
    expect((await browser.request(cb)).status).toBe(303)
    const link = await browser.request(started.url!)
    expectHtmlPage(link, 409)
    expect(link.body).toMatch(/already been used/i)
    const replay = await browser.request(cb)
    expectHtmlPage(replay, 409)
    expect(replay.body).toMatch(/already used/i)
    expect(h.idp.tokenCalls.get('authorization_code')).toBe(1)
    expect((await flowStatus(h, started.id)).status).toBe('pending')
  })

  it('custom: confirm_user for an unknown flow is 404 JSON', async () => {
    h = await startHarness(custom)
    const r = await api(h, 'POST', '/v1/auth/confirm_user', { flow_id: 'ac_doesnotexist', user_id: 'x' })
    expect(r.status).toBe(404)
    expect(typeof r.json['name']).toBe('string')
    expect(typeof r.json['message']).toBe('string')
  })

  it('skip: completes without confirmation and the page says verification is off', async () => {
    h = await startHarness({ env: { LATCHKEY_VERIFICATION: 'skip' } })
    expect(h.latchkey.warnings.join(' ')).toMatch(/verification is off/i)
    const started = await start(h, 'skipper')
    const page = await new TestBrowser().authorize(started.url!, { login: 'skipper' })
    expect(page.status).toBe(200)
    expect(page.body).toContain('Connected')
    expect(page.body).toMatch(/verification is off/i)
    const done = await flowStatus(h, started.id)
    expect(done.status).toBe('completed')
    expect(done.context?.token).toBeTruthy()
  })
})
