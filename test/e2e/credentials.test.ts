/**
 * Non-OAuth providers end to end: an API-key provider through Latchkey's credential page in real
 * Chromium, and a Basic provider through a scripted browser, each validated against a fake
 * service on 127.0.0.1 (reached through Latchkey's one outbound path, SSRF guard included). The
 * page is bound to the browser that continued, and its POST needs the form's CSRF token.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { listenOnFreePort } from '../helpers/ports.js'

const GOOD_KEY = 'sk-good-0123456789'
const ROTATED_KEY = 'sk-rotated-9876543210'
const SID = 'AC0123456789abcdef0123456789abcdef'
const TOKEN = 'twilio-auth-token-1'
let service: Server
let servicePort: number
const seen: IncomingHttpHeaders[] = []
let h: Harness
let client: Latchkey

beforeAll(async () => {
  // The fake service: its models list answers 200 for the good key only; its account resource for the SID's Basic credential.
  service = createServer((req, res) => {
    seen.push(req.headers)
    const basic = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`
    const ok =
      (req.url === '/v1/models' && [`Bearer ${GOOD_KEY}`, `Bearer ${ROTATED_KEY}`].includes(req.headers.authorization ?? '')) ||
      (req.url === `/2010-04-01/Accounts/${SID}.json` && req.headers.authorization === basic)
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
    res.end(ok ? '{"data":[]}' : '{"error":"invalid credentials"}')
  })
  servicePort = await listenOnFreePort(service)
  const base = `http://127.0.0.1:${servicePort}`
  h = await startHarness({
    config: {
      credentialProviders: [
        { id: 'fake-ai', kind: 'api_key', header: 'authorization', format: 'Bearer {{secret}}', validation_url: `${base}/v1/models` },
        { id: 'fake-twilio', kind: 'basic', validation_url: `${base}/2010-04-01/Accounts/{{username}}.json` },
      ],
    },
  })
  client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL })
})
afterAll(async () => {
  await h?.close()
  await new Promise((resolve) => service?.close(resolve))
})

describe('API-key and Basic providers', () => {
  it.skipIf(!chromiumAvailable())('an API key entered on Latchkey’s page, validated, then handed out by authorize (Chromium)', async () => {
    const auth = await client.auth.start('erin', 'fake-ai')
    expect(auth.status).toBe('pending')
    const browser = await launchChromium()
    try {
      const page = await browser.newPage()
      await page.goto(auth.url!)
      await page.click('button[type=submit]') // Continue: binds the link to this browser
      const form = await page.waitForSelector('input[name=secret]')
      // A wrong key: the service says 401, the page says so and the flow stays open.
      await form.fill('sk-wrong')
      const rejected = page.waitForResponse((r) => r.url().includes('/oauth/credential/'))
      await page.click('button[type=submit]')
      const r1 = await rejected
      expect(r1.status()).toBe(400)
      expect(r1.headers()['content-security-policy']).toContain("form-action 'self';")
      expect(await page.textContent('main')).toContain('did not accept')
      expect((await client.auth.status({ id: auth.id! })).status).toBe('pending')
      // The right key.
      await page.fill('input[name=secret]', GOOD_KEY)
      await page.click('button[type=submit]')
      await page.waitForSelector('main.success', { timeout: 10_000 })
      expect(await page.textContent('h1')).toContain('Connected')
      expect(await page.content()).not.toContain(GOOD_KEY)
    } finally {
      await browser.close()
    }
    const done = await client.auth.waitForCompletion(auth, { timeoutMs: 10_000 })
    expect(done.context?.token).toBe(GOOD_KEY)
    // The service saw the key where the provider entry says it goes.
    expect(seen.some((s) => s.authorization === `Bearer ${GOOD_KEY}`)).toBe(true)
    // Later calls: completed at once, same key (from the cache on the second).
    for (let i = 0; i < 2; i++) {
      const again = await client.auth.start('erin', 'fake-ai')
      expect(again).toMatchObject({ status: 'completed', context: { token: GOOD_KEY } })
    }
    expect(h.logs.join('\n')).not.toContain(GOOD_KEY)
  })

  it('refuses a POST without the form’s CSRF token, from another site, or from another browser', async () => {
    const auth = await client.auth.start('fay', 'fake-ai')
    const browser = new TestBrowser()
    const page = await browser.openLink(auth.url!)
    expect(page.status).toBe(200)
    expect(page.body).toContain('name="secret"')
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!
    const action = new URL(`/oauth/credential/${auth.id}`, h.baseURL).toString()
    expect((await browser.request(action, { form: { secret: GOOD_KEY } })).status).toBe(403)
    expect((await browser.request(action, { form: { secret: GOOD_KEY, csrf }, origin: 'https://evil.example' })).status).toBe(403)
    expect((await new TestBrowser().request(action, { form: { secret: GOOD_KEY, csrf } })).status).toBe(403)
    expect((await client.auth.status({ id: auth.id! })).status).toBe('pending')
    const ok = await browser.request(action, { form: { secret: GOOD_KEY, csrf } })
    expect(ok.status).toBe(200)
    expect(ok.body).toContain('Connected')
    // Single use: the same page posted again does not write again.
    expect((await browser.request(action, { form: { secret: 'sk-other', csrf } })).body).toContain('Already connected')
    expect((await client.auth.start('fay', 'fake-ai')).context?.token).toBe(GOOD_KEY)
  })

  it('rotation: the app marks the key invalid, authorize hands out a new link, the new key replaces the old on the same connection', async () => {
    const first = await client.auth.start('hal', 'fake-ai')
    const enter = async (url: string, secret: string) => {
      const browser = new TestBrowser()
      const page = await browser.openLink(url)
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!
      const id = new URL(url).pathname.split('/').pop()!
      return browser.request(new URL(`/oauth/credential/${id}`, h.baseURL).toString(), { form: { secret, csrf } })
    }
    expect((await enter(first.url!, GOOD_KEY)).body).toContain('Connected')
    const done = await client.auth.waitForCompletion(first, { timeoutMs: 10_000 })
    const connectionId = done.account!.connection_id
    expect(await client.auth.markInvalid({ user_id: 'hal', connection_id: connectionId })).toEqual({
      connection_id: connectionId,
      status: 'reauth_required',
    })
    // Not handed out any more (the cached row was dropped too).
    expect((await client.auth.status({ id: connectionId })).status).toBe('failed')
    const again = await client.auth.start('hal', 'fake-ai')
    expect(again.status).toBe('pending')
    expect((await enter(again.url!, ROTATED_KEY)).body).toContain('Connected')
    const rotated = await client.auth.waitForCompletion(again, { timeoutMs: 10_000 })
    expect(rotated.context?.token).toBe(ROTATED_KEY)
    expect(rotated.account?.connection_id).toBe(connectionId)
    expect((await client.admin.userConnections.list({ user_id: 'hal' })).total_count).toBe(1)
    // Another user's connection cannot be marked.
    await expect(client.auth.markInvalid({ user_id: 'someone-else', connection_id: connectionId })).rejects.toMatchObject({ status: 404 })
  })

  it('lists the credential providers among the configured ones (and in the admin API) without breaking either', async () => {
    const listed = await client.providers.list()
    expect(listed.configured).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'fake-ai', type: 'api_key' }),
        expect.objectContaining({ id: 'fake-twilio', type: 'basic' }),
      ]),
    )
    const admin = await fetch(`${h.baseURL}/v1/admin/auth_providers`, { headers: { authorization: `Bearer ${h.apiKey}` } })
    expect(admin.status).toBe(200)
  })

  it('a Basic credential (username + password) is validated with Basic auth and handed out with its username', async () => {
    const auth = await client.auth.start('gus', 'fake-twilio')
    const browser = new TestBrowser()
    const page = await browser.openLink(auth.url!)
    expect(page.body).toContain('name="username"')
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!
    const action = new URL(`/oauth/credential/${auth.id}`, h.baseURL).toString()
    expect((await browser.request(action, { form: { username: SID, secret: 'wrong', csrf } })).status).toBe(400)
    const ok = await browser.request(action, { form: { username: SID, secret: TOKEN, csrf } })
    expect(ok.body).toContain('Connected')
    const done = await client.auth.waitForCompletion(auth, { timeoutMs: 10_000 })
    expect(done.context).toEqual({ token: TOKEN, user_info: { username: SID } })
    expect(done.account).toMatchObject({ id: SID, default: true })
  })
})
