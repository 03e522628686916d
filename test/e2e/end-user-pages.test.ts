/**
 * Every page a person sees, each driven in headless Chromium at 1280 px and at 390 px wide,
 * against `serve --dev` (the built-in demo provider, and an API-key provider validated by a fake
 * service): branding (and its escaping), the scope list, the language from Accept-Language (de,
 * fr, es, ar right-to-left), the success page naming the account, "Back to <App>", declined,
 * each error page, the demo provider's own pages (no debug panel, nothing loaded from
 * elsewhere), the API-key credential page, and no state, code or token in any page. Every page is
 * checked by axe-core, for a stray "null" and for overflow (`checkPage`, shared with the
 * dashboard's test).
 *
 * `LATCHKEY_SCREENSHOTS=docs/screenshots` also writes the README's screenshots.
 */
import { mkdirSync, mkdtempSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Latchkey } from '@latchkey/client'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey, type Latchkey as Server } from '../../src/server.js'
import { checkPage } from '../helpers/browser.js'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js'
import { freePort, listenOnFreePort } from '../helpers/ports.js'

const SHOTS = process.env['LATCHKEY_SCREENSHOTS']
// The screenshots show a plain name; the tests proper, a name with markup in it.
const XSS_NAME = SHOTS ? 'Acme Assistant' : 'Acme <img src=x onerror="window.pwned=1"> "Bot"'
const ACCENT = '#0a7d4f'
/** Every page test runs at both widths. */
const WIDTHS = [1280, 390] as const
/** The fake API-key service's one good key. */
const GOOD_KEY = 'sk-good-end-user-pages-0123456789'

let server: Server
let baseURL: string
let apiKey: string
let browser: Browser
let client: Latchkey
let logo: string
let service: HttpServer
/** Every page's HTML, checked at the end for secrets. */
const pages: Array<{ name: string; html: string }> = []
/** Values that must never be in a page. */
const secrets = new Set<string>()

const admin = (method: string, body?: unknown) =>
  fetch(`${baseURL}/v1/admin/branding`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  })

beforeAll(async () => {
  // An API-key service: its models list answers 200 for the good key only.
  service = createServer((req, res) => {
    const ok = req.url === '/v1/models' && req.headers.authorization === `Bearer ${GOOD_KEY}`
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"data":[]}' : '{"error":"invalid key"}')
  })
  const servicePort = await listenOnFreePort(service)
  const port = await freePort()
  baseURL = `http://127.0.0.1:${port}`
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-pages-'))
  const config = loadConfig({
    cwd: dir,
    env: { LATCHKEY_BACKGROUND_REFRESH: 'false', LATCHKEY_BRANDING_APP_NAME: 'Configured App', LATCHKEY_BRANDING_ACCENT_COLOR: '#123456' },
    overrides: {
      dev: true,
      host: '127.0.0.1',
      port,
      publicUrl: baseURL,
      databaseUrl: join(dir, 'latchkey.db'),
      encryptionKeys: Keyring.generateKey(),
      configFile: undefined,
      credentialProviders: [
        {
          id: 'fake-ai',
          kind: 'api_key',
          header: 'authorization',
          format: 'Bearer {{secret}}',
          validation_url: `http://127.0.0.1:${servicePort}/v1/models`,
        },
      ],
    },
  })
  server = await createLatchkey(config, { logger: createLogger('warn') })
  await server.listen()
  apiKey = server.initialApiKey!
  client = new Latchkey({ apiKey, baseURL })
  if (!chromiumAvailable()) return
  browser = await launchChromium()
  // A small PNG logo, drawn by the browser itself.
  const p = await browser.newPage({ viewport: { width: 120, height: 40 } })
  await p.setContent(
    '<body style="margin:0"><div style="width:120px;height:40px;background:#0a7d4f;color:#fff;font:bold 22px sans-serif;display:flex;align-items:center;justify-content:center;border-radius:8px">ACME</div></body>',
  )
  logo = `data:image/png;base64,${(await p.screenshot({ omitBackground: true })).toString('base64')}`
  await p.close()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await new Promise((resolve) => service?.close(resolve))
})

/** A new browser (own cookies) in `locale`, at desktop size or 390 px wide, that records every request and CSP complaint. */
async function open(acceptLanguage = 'en-US', width = 1280) {
  const context: BrowserContext = await browser.newContext({
    locale: acceptLanguage.split(/[,;]/)[0]!,
    extraHTTPHeaders: { 'accept-language': acceptLanguage },
    viewport: { width, height: width < 500 ? 844 : 900 },
  })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  const requests: string[] = []
  const cspErrors: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text())
  })
  return { context, page, requests, cspErrors }
}

/** The README's screenshots, each at the width it shows. */
const SHOWN: Record<string, number> = {
  continue: 1280,
  'continue-mobile': 390,
  'continue-de': 390,
  'continue-ar': 390,
  connected: 390,
  declined: 1280,
  'error-expired': 390,
  'demo-sign-in': 390,
  'demo-consent': 390,
}

/** Keeps the page's HTML for the final secrets check, runs the shared page checks (axe-core among them), and takes its screenshot. */
async function record(name: string, page: Page, width: number) {
  pages.push({ name: `${name} @${width}`, html: await page.content() })
  await checkPage(page, { width, secrets })
  if (SHOTS && SHOWN[name] === width) {
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  }
}

const noOverflow = async (page: Page) =>
  expect(
    await page.evaluate(() => {
      const wide = Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map((e) => `${e.tagName}.${e.className}:${Math.round(e.getBoundingClientRect().right)}`)
      return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide }
    }),
  ).toEqual(expect.objectContaining({ wide: [] }))

describe.skipIf(!chromiumAvailable())('end-user pages (Chromium)', () => {
  it('admin API: GET shows the configured branding; PUT validates and replaces the override', async () => {
    const before = await (await admin('GET')).json()
    expect(before).toMatchObject({ app_name: 'Configured App', accent_color: '#123456', logo_url: null, support_url: null, override: {} })
    for (const bad of [
      { accent_color: 'red' },
      { accent_color: '#12345' },
      { logo_url: 'http://cdn.example.com/logo.png' },
      { logo_url: 'javascript:alert(1)' },
      { logo_url: 'data:image/svg+xml;base64,PHN2Zz4=' },
      { logo_url: `data:image/png;base64,${'A'.repeat(50_000)}` },
      { support_url: 'javascript:alert(1)' },
      { app_name: 'a\u202eb' },
      { app_name: '' },
      { unknown: 1 },
    ]) {
      const r = await admin('PUT', bad)
      expect(r.status, JSON.stringify(bad).slice(0, 80)).toBe(400)
      expect(await r.json()).toHaveProperty('name')
    }
    const r = await admin('PUT', {
      app_name: XSS_NAME,
      logo_url: logo,
      accent_color: '#0A7D4F',
      support_url: 'https://support.example.com/help',
    })
    expect(r.status).toBe(200)
    const after = await (await admin('GET')).json()
    expect(after).toMatchObject({ app_name: XSS_NAME, accent_color: ACCENT, support_url: 'https://support.example.com/help' })
    expect(after.logo_url).toBe(logo)
    // Without an admin key: refused.
    expect((await fetch(`${baseURL}/v1/admin/branding`)).status).toBe(401)
  })

  for (const width of WIDTHS) {
    it(`Continue page at ${width} px: app and provider named, branding shown and escaped, scopes listed in words`, async () => {
      const { context, page, requests, cspErrors } = await open('en-US', width)
      try {
        const auth = await client.auth.start(`u${width}`, 'demo', {
          scopes: ['openid', 'profile', 'demo.read', 'offline_access', 'x.custom'],
        })
        const res = await page.goto(auth.url!)
        expect(res?.status()).toBe(200)
        const csp = res!.headers()['content-security-policy']!
        expect(csp).toContain('img-src data:')
        expect(csp).not.toMatch(/script-src|unsafe-inline/)
        expect(await page.textContent('h1')).toBe('→Connect your Latchkey Demo account')
        expect(await page.textContent('.lead')).toBe(`${XSS_NAME} wants to connect to your Latchkey Demo account.`)
        // The name is text, not markup: no image but the logo, and its onerror never ran.
        expect(await page.locator('img').count()).toBe(1)
        expect(await page.getAttribute('img', 'src')).toBe(logo)
        expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined()
        expect(await page.title()).toContain(XSS_NAME)
        const items = await page.locator('ul.scopes li').allTextContents()
        expect(items).toEqual([
          'Confirm who you areopenid',
          'See your name and profile pictureprofile',
          'Read your demo datademo.read',
          `Keep this access when you are not using ${XSS_NAME}offline_access`,
          'Permission “x.custom”x.custom',
        ])
        // The accent colour is applied (its style block is allowed by hash), and the support link is there.
        expect(await page.evaluate(() => getComputedStyle(document.querySelector('button')!).backgroundColor)).toBe('rgb(10, 125, 79)')
        expect(await page.getAttribute('footer a', 'href')).toBe('https://support.example.com/help')
        expect(await page.textContent('button')).toBe('Continue to Latchkey Demo')
        await noOverflow(page)
        expect(cspErrors).toEqual([])
        expect(requests.every((u) => u.startsWith(baseURL) || u.startsWith('data:'))).toBe(true)
        await record(width === 1280 ? 'continue' : 'continue-mobile', page, width)
      } finally {
        await context.close()
      }
    })
  }

  for (const width of WIDTHS)
    for (const [locale, lang, dir, title, button] of [
      ['de-DE,de;q=0.9', 'de', 'ltr', 'Ihr Latchkey Demo-Konto verbinden', 'Weiter zu Latchkey Demo'],
      ['fr-CA', 'fr', 'ltr', 'Connecter votre compte Latchkey Demo', 'Continuer vers Latchkey Demo'],
      ['es-MX', 'es', 'ltr', 'Conectar su cuenta de Latchkey Demo', 'Continuar a Latchkey Demo'],
      ['ar-EG', 'ar', 'rtl', 'ربط حسابك على Latchkey Demo', 'المتابعة إلى Latchkey Demo'],
    ] as const) {
      it(`speaks ${lang} for Accept-Language ${locale} (lang=${lang}, dir=${dir}) at ${width} px`, async () => {
        const { context, page, cspErrors } = await open(locale, width)
        try {
          const auth = await client.auth.start(`lang-${lang}-${width}`, 'demo', { scopes: ['openid', 'demo.read'] })
          const res = await page.goto(auth.url!)
          expect(res?.headers()['content-language']).toBe(lang)
          expect(await page.getAttribute('html', 'lang')).toBe(lang)
          expect(await page.getAttribute('html', 'dir')).toBe(dir)
          expect(await page.textContent('h1 span:last-child')).toBe(title)
          expect(await page.textContent('button')).toBe(button)
          // The raw scope stays left-to-right inside a right-to-left page.
          expect(await page.getAttribute('ul.scopes code', 'dir')).toBe('ltr')
          await noOverflow(page)
          expect(cspErrors).toEqual([])
          await record(`continue-${lang}`, page, width)
        } finally {
          await context.close()
        }
      })
    }

  for (const width of WIDTHS)
    it(`demo provider pages at ${width} px: ours, no debug panel, nothing loaded from elsewhere; the success page names the account`, async () => {
      const { context, page, requests, cspErrors } = await open('en-US', width)
      try {
        const auth = await client.auth.start(`carol-${width}`, 'demo', { scopes: ['openid', 'profile', 'demo.read'] })
        await page.goto(auth.url!)
        const authRequest = page.waitForRequest((r) => r.url().includes('/demo-idp/auth?'))
        await page.click('button[type=submit]')
        const state = new URL((await authRequest).url()).searchParams.get('state')!
        secrets.add(state)
        await page.waitForSelector('input[name=login]')
        expect(await page.textContent('h1')).toContain('Sign in to Latchkey Demo')
        await record('demo-sign-in', page, width)
        await page.fill('input[name=login]', 'carol@example.test')
        await page.fill('input[name=password]', 'anything')
        await page.click('button[type=submit]')
        await page.waitForSelector('ul.scopes')
        expect(await page.textContent('h1')).toContain('Allow access?')
        expect(await page.locator('ul.scopes li').allTextContents()).toContain('Read your demo datademo.read')
        await record('demo-consent', page, width)
        for (const p of pages.slice(-2)) {
          expect(p.html).not.toMatch(/<pre|<script|debug|accountId|fonts\.googleapis/i)
        }
        const callback = page.waitForRequest((r) => r.url().includes('/oauth/callback?'))
        await page.click('button[type=submit]')
        const code = new URL((await callback).url()).searchParams.get('code')!
        secrets.add(code)
        await page.waitForSelector('main.success')
        expect(await page.textContent('h1')).toContain('Connected')
        expect(await page.textContent('.lead')).toBe(`Your Latchkey Demo account is now connected to ${XSS_NAME}.`)
        expect(await page.textContent('.account')).toBe('Connected account: carol@example.test')
        await noOverflow(page)
        await record('connected', page, width)
        const done = await client.auth.waitForCompletion(auth, { timeoutMs: 10_000 })
        secrets.add(done.context!.token!)
        expect(requests.filter((u) => !u.startsWith(baseURL))).toEqual([])
        expect(cspErrors).toEqual([])
      } finally {
        await context.close()
      }
    })

  for (const width of WIDTHS)
    it(`with next_uri at ${width} px: success goes back to the app; the link afterwards and a declined sign-in offer "Back to <App>"`, async () => {
      const nextUri = `${baseURL}/v1/health?back=1`
      const { context, page } = await open('en-US', width)
      try {
        const auth = await client.auth.start(`dora-${width}`, 'demo', { scopes: ['openid'], nextUri })
        await page.goto(auth.url!)
        await page.click('button[type=submit]')
        await page.fill('input[name=login]', 'dora')
        await page.click('button[type=submit]')
        await page.click('button[type=submit]')
        await page.waitForURL(nextUri, { timeout: 10_000 })
        await page.goto(auth.url!)
        expect(await page.textContent('h1')).toContain('Already connected')
        expect(await page.getAttribute('a.button', 'href')).toBe(nextUri)
        expect(await page.textContent('a.button')).toBe(`Back to ${XSS_NAME}`)
        await record('already-connected', page, width)

        // Still signed in at the demo provider as dora: straight to its consent page.
        const declined = await client.auth.start(`erin-${width}`, 'demo', { scopes: ['openid', 'demo.write'], nextUri })
        await page.goto(declined.url!)
        await page.click('button[type=submit]')
        await page.click('a.secondary')
        await page.waitForSelector('main.error')
        expect(await page.textContent('h1')).toContain('Connection cancelled')
        expect(await page.textContent('.next')).toBe(`If that was a mistake, start again from ${XSS_NAME}.`)
        expect(await page.getAttribute('a.button', 'href')).toBe(nextUri)
        await record('declined', page, width)
      } finally {
        await context.close()
      }
    })

  for (const width of WIDTHS)
    it(`each error page says what happened and what to do next, in the page language, at ${width} px`, async () => {
      const { context, page, cspErrors } = await open('en-US', width)
      const expectError = async (name: string, status: number, title: string, next: RegExp) => {
        expect(await page.textContent('h1'), name).toContain(title)
        expect(await page.textContent('.next'), name).toMatch(next)
        await noOverflow(page)
        await record(`error-${name}`, page, width)
        expect(status, name).toBeGreaterThanOrEqual(200)
      }
      try {
        let res = await page.goto(`${baseURL}/oauth/authorize/ac_doesnotexist`)
        expect(res?.status()).toBe(404)
        await expectError('unknown-link', 404, 'Unknown link', /ask it for a new link/)

        res = await page.goto(`${baseURL}/oauth/callback`)
        expect(res?.status()).toBe(400)
        await expectError('missing-state', 400, 'Invalid request', /Start again from/)

        res = await page.goto(`${baseURL}/oauth/callback?state=not-a-state&code=x`)
        expect(res?.status()).toBe(400)
        await expectError('unknown-state', 400, 'Unknown or used link', /start again/)

        // Expired before it was used.
        const old = await client.auth.start(`fay-${width}`, 'demo', { scopes: ['openid'] })
        await server.store.updateFlow(old.id!, { expires_at: Date.now() - 1000 })
        res = await page.goto(old.url!)
        expect(res?.status()).toBe(410)
        await expectError('expired', 410, 'Link expired', /new link/)

        // The provider answers with an RFC 6749 error: advice for that code, the description as text.
        for (const [code, title, next] of [
          ['temporarily_unavailable', 'Sign-in failed', /Wait a few minutes/],
          ['invalid_scope', 'Sign-in failed', /contact its support/],
        ] as const) {
          const auth = await client.auth.start(`gus-${code}-${width}`, 'demo', { scopes: ['openid'] })
          await page.goto(auth.url!)
          const authRequest = page.waitForRequest((r) => r.url().includes('/demo-idp/auth?'))
          await page.click('button[type=submit]')
          const state = new URL((await authRequest).url()).searchParams.get('state')!
          secrets.add(state)
          res = await page.goto(
            `${baseURL}/oauth/callback?state=${state}&error=${code}&error_description=${encodeURIComponent('<b>busy</b>')}`,
          )
          expect(res?.status()).toBe(502)
          expect(await page.locator('main b').count()).toBe(0)
          expect(await page.textContent('.lead')).toContain('<b>busy</b>')
          await expectError(code, 502, title, next)
          // The same callback again: already used.
          res = await page.goto(`${baseURL}/oauth/callback?state=${state}&error=${code}`)
          expect(res?.status()).toBe(410)
        }

        // Opened in another browser first.
        const shared = await client.auth.start(`hal-${width}`, 'demo', { scopes: ['openid'] })
        const other = await open('en-US', 1280)
        await other.page.goto(shared.url!)
        await other.page.click('button[type=submit]')
        await other.page.waitForSelector('input[name=login]')
        await other.context.close()
        res = await page.goto(shared.url!)
        expect(res?.status()).toBe(403)
        await expectError('opened-elsewhere', 403, 'Link opened elsewhere', /ask it for a new link/)
        expect(cspErrors).toEqual([])
      } finally {
        await context.close()
      }
    })

  for (const width of WIDTHS)
    it(`error pages in Arabic are right-to-left too, at ${width} px`, async () => {
      const { context, page } = await open('ar', width)
      try {
        await page.goto(`${baseURL}/oauth/authorize/ac_doesnotexist`)
        expect(await page.getAttribute('html', 'dir')).toBe('rtl')
        expect(await page.textContent('h1')).toContain('رابط غير معروف')
        expect(await page.evaluate(() => getComputedStyle(document.querySelector('main')!).direction)).toBe('rtl')
        await noOverflow(page)
        await record('error-unknown-link-ar', page, width)
      } finally {
        await context.close()
      }
    })

  for (const width of WIDTHS)
    it(`the demo provider error page is ours (oidc-provider loads a Google font on its own), at ${width} px`, async () => {
      const { context, page, requests } = await open('fr', width)
      try {
        const res = await page.goto(`${baseURL}/demo-idp/auth?client_id=nobody&response_type=code&scope=openid`)
        expect(res?.status()).toBeGreaterThanOrEqual(400)
        expect(await page.getAttribute('html', 'lang')).toBe('fr')
        expect(await page.textContent('h1')).toContain('Échec de la connexion de démonstration')
        expect(await page.content()).not.toMatch(/fonts\.googleapis|@import|<script/)
        expect(requests.filter((u) => !u.startsWith(baseURL))).toEqual([])
        expect(res?.headers()['content-security-policy']).toContain("default-src 'none'")
        await noOverflow(page)
        await record('demo-error', page, width)
        // No logout pages (oidc-provider's own) either: the endpoint is off.
        expect((await fetch(`${baseURL}/demo-idp/session/end`)).status).toBe(404)
      } finally {
        await context.close()
      }
    })

  for (const width of WIDTHS)
    it(`API-key credential page at ${width} px: asks for the key, says when the service refuses it, connects with a good one`, async () => {
      const { context, page, requests, cspErrors } = await open('en-US', width)
      try {
        const auth = await client.auth.start(`kim-${width}`, 'fake-ai')
        await page.goto(auth.url!)
        await record('credential-continue', page, width)
        await page.click('button[type=submit]') // Continue: binds the link to this browser
        await page.waitForSelector('input[name=secret]')
        expect(await page.getAttribute('input[name=secret]', 'type')).toBe('password')
        await noOverflow(page)
        await record('credential-form', page, width)
        secrets.add('sk-wrong-0123456789')
        await page.fill('input[name=secret]', 'sk-wrong-0123456789')
        await page.click('button[type=submit]')
        await page.getByText('did not accept').first().waitFor()
        expect(await page.inputValue('input[name=secret]')).toBe('')
        await noOverflow(page)
        await record('credential-refused', page, width)
        secrets.add(GOOD_KEY)
        await page.fill('input[name=secret]', GOOD_KEY)
        await page.click('button[type=submit]')
        await page.waitForSelector('main.success')
        expect(await page.textContent('h1')).toContain('Connected')
        await noOverflow(page)
        await record('credential-connected', page, width)
        expect((await client.auth.waitForCompletion(auth, { timeoutMs: 10_000 })).status).toBe('completed')
        expect(requests.filter((u) => !u.startsWith(baseURL))).toEqual([])
        expect(cspErrors).toEqual([])
      } finally {
        await context.close()
      }
    })

  it('an https logo is allowed from its own origin only; a cleared override restores the configured branding', async () => {
    expect((await admin('PUT', { logo_url: 'https://cdn.example.com/acme.png' })).status).toBe(200)
    const res = await fetch(`${baseURL}/oauth/authorize/ac_doesnotexist`)
    expect(res.headers.get('content-security-policy')).toContain('img-src https://cdn.example.com;')
    const html = await res.text()
    expect(html).toContain('<img src="https:&#47;&#47;cdn.example.com&#47;acme.png" alt="">')
    // The name came back from configuration (the override no longer sets it).
    expect(html).toContain('Configured App')
    expect((await admin('PUT', {})).status).toBe(200)
    expect(await (await admin('GET')).json()).toMatchObject({ app_name: 'Configured App', logo_url: null, override: {} })
  })

  it('no page holds a state, code or token', () => {
    expect(pages.length).toBeGreaterThan(40)
    expect(secrets.size).toBeGreaterThanOrEqual(4)
    for (const p of pages) for (const s of secrets) expect(p.html.includes(s), `${p.name} holds a secret`).toBe(false)
  })
})
