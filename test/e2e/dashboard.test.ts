/**
 * The admin dashboard in headless Chromium (playwright-core, Debian's chromium), desktop and
 * 390 px wide, against a real Latchkey and a real OAuth server: an operator signs in with an
 * admin key, finds a user's connection, sees why its refresh failed, revokes it, adds a custom
 * provider, creates a key, reads and exports the audit trail. Every page is checked by axe-core
 * and for secrets in its HTML; the session's security properties (cookie flags, CSRF, idle and
 * absolute expiry, sign-out, revoked key) are checked in the browser and at the HTTP level. At
 * 390 px the Connections filters are used and a connection is refreshed and revoked by keyboard
 * alone (Tab order, Escape and Enter in the confirmation).
 * Ports from test/helpers/ports.ts. Set DASHBOARD_SCREENSHOTS=1 to (re)write docs/screenshots/.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { Latchkey } from '@latchkey/client'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axe, checkPage, TestBrowser } from '../helpers/browser.js'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { freePort } from '../helpers/ports.js'

const SCREENSHOTS = process.env['DASHBOARD_SCREENSHOTS'] === '1'

let h: Harness
let browser: Browser
let client: Latchkey
let adminKeyId: string
let aliceConnectionId: string
/** Every secret Latchkey holds for this test: none may appear in any page's HTML. */
const secrets: string[] = []

async function connect(user: string, scopes = ['openid', 'profile', 'offline_access']) {
  const started = await client.auth.start(user, 'test-idp', { scopes })
  await new TestBrowser().authorize(started.url!, { login: user })
  await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  const c = (await h.latchkey.store.getConnection(user, 'test-idp'))!
  secrets.push(h.latchkey.ctx.vault.accessToken(c), h.latchkey.ctx.vault.refreshToken(c)!)
  return c
}

beforeAll(async () => {
  h = await startHarness({ port: await freePort() })
  client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
  adminKeyId = /^lk_([a-z0-9]{12})_/.exec(h.apiKey)![1]!
  secrets.push(h.apiKey, h.idp.clientSecret)
  aliceConnectionId = (await connect('alice')).id
  await connect('bob')
  // A failed flow (the user declined) and a pending one.
  const declined = await client.auth.start('dave', 'test-idp', { scopes: ['openid'] })
  await new TestBrowser().authorize(declined.url!, { login: 'dave', decision: 'deny' })
  await client.auth.start('carol', 'test-idp', { scopes: ['openid', 'email'] })
  if (chromiumAvailable()) browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.close()
})

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, mobile: { width: 390, height: 844 } } as const

async function newPage(viewport: keyof typeof VIEWPORTS): Promise<{ context: BrowserContext; page: Page; cspErrors: string[] }> {
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport], acceptDownloads: true })
  const page = await context.newPage()
  const cspErrors: string[] = []
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text())
  })
  page.on('pageerror', (e) => cspErrors.push(`page error: ${e.message}`))
  return { context, page, cspErrors }
}

async function signIn(page: Page, key = h.apiKey) {
  await page.goto(`${h.baseURL}/dashboard`)
  await page.getByLabel('Admin API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
}

/** The shared page checks (test/helpers/browser.ts) with this suite's secrets, at the viewport's width. */
async function check(page: Page, viewport: keyof typeof VIEWPORTS) {
  await checkPage(page, { width: VIEWPORTS[viewport].width, secrets })
}

async function shot(page: Page, name: string) {
  if (SCREENSHOTS) await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true })
}

/** The admin API with the harness's admin key (outside the browser, to check what the dashboard did). */
// biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
async function api(method: string, path: string): Promise<any> {
  const r = await fetch(`${h.baseURL}${path}`, { method, headers: { authorization: `Bearer ${h.apiKey}` } })
  expect(r.ok, `${method} ${path} answered ${r.status}`).toBe(true)
  return r.json()
}

/** A webhook receiver on this suite's ports that answers 200 and records what it gets. */
async function startReceiver() {
  const received: Array<{ id: string; body: string; headers: IncomingHttpHeaders; event: { type: string } }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      received.push({ id: String(req.headers['webhook-id']), body, headers: req.headers, event: JSON.parse(body) })
      res.writeHead(200).end()
    })
  })
  const p = await freePort()
  await new Promise<void>((resolve) => server.listen(p, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${p}/hooks`,
    received,
    async until(predicate: (r: typeof received) => boolean) {
      await expect.poll(() => predicate(received), { timeout: 20_000 }).toBe(true)
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** What has the keyboard focus: its accessible name (aria-label, else text) and where it sits. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      name: (el?.getAttribute('aria-label') || el?.textContent || '').trim(),
      inDialog: !!el?.closest('dialog'),
      inNav: !!el?.closest('#nav'),
    }
  })

/**
 * Presses Tab (only Tab: no element is focused by script) until the focus is on an element named
 * `name` that `where` accepts; fails with the focus path when it is not reached within `max` presses.
 */
async function tabTo(page: Page, name: string, where: (f: Awaited<ReturnType<typeof focused>>) => boolean = () => true, max = 60) {
  const path: string[] = []
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const f = await focused(page)
    path.push(`${f.tag}:${f.name.slice(0, 30)}`)
    if (f.name === name && where(f)) return
  }
  throw new Error(`Tab never reached "${name}"; the focus went ${path.join(' → ')}`)
}

const goto = async (page: Page, hash: string, heading: string | RegExp) => {
  await page.evaluate((x) => (location.hash = x), hash)
  await page
    .getByRole('heading', { level: 1, name: heading })
    .waitFor({ timeout: 10_000 })
    .catch(async (err: Error) => {
      throw new Error(`${err.message}\nthe page shows: ${await page.locator('main').textContent()}`)
    })
}

describe.skipIf(!chromiumAvailable())('dashboard in Chromium', () => {
  it('serves the page with a strict CSP and every asset from Latchkey', async () => {
    const r = await fetch(`${h.baseURL}/dashboard`)
    expect(r.status).toBe(200)
    const csp = r.headers.get('content-security-policy')!
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("style-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).toContain("frame-ancestors 'none'")
    const html = await r.text()
    expect(html).not.toMatch(/<script>|<style>|style=|https?:\/\//)
    for (const asset of ['app.js', 'app.css']) {
      const a = await fetch(`${h.baseURL}/dashboard/assets/${asset}`)
      expect(a.status).toBe(200)
      expect(a.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })

  it('desktop: find a connection, see why its refresh failed, refresh, revoke; audited as the operator', async () => {
    const { context, page, cspErrors } = await newPage('desktop')
    // The sign-in page
    await page.goto(`${h.baseURL}/dashboard`)
    await page.getByLabel('Admin API key').waitFor()
    await check(page, 'desktop')
    await shot(page, 'sign-in')
    // A wrong key is refused, a runtime key too
    await page.getByLabel('Admin API key').fill('lk_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'invalid API key' }).waitFor()
    const runtime = await h.latchkey.apiKeys.create({ name: 'app', role: 'runtime' })
    secrets.push(runtime.key)
    await page.getByLabel('Admin API key').fill(runtime.key)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'needs an admin API key' }).waitFor()

    await signIn(page)
    // Overview: counts and charts
    await expect.poll(() => page.locator('.stat').first().textContent()).toContain('2')
    await expect(page.getByRole('img', { name: /started, .* completed, .* failed/ }).count()).resolves.toBe(1)
    await check(page, 'desktop')

    // Connections: filter by user, open alice's
    await page.getByRole('navigation').getByRole('link', { name: 'Connections' }).click()
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor()
    await expect(page.getByRole('row').count()).resolves.toBe(3) // header + alice + bob
    await page.getByLabel('User id').fill('alice')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.waitForURL(/user_id=alice/)
    await expect.poll(() => page.getByRole('row').count()).toBe(2)
    await check(page, 'desktop')
    await shot(page, 'connections')
    // The account filter (the IdP's subject) finds it too; a wrong one finds nothing
    await goto(page, '#/connections?account=nobody', 'Connections')
    await page.getByText('No connection matches.').waitFor()
    await goto(page, '#/connections?user_id=alice', 'Connections')
    await page.getByRole('link', { name: 'alice' }).click()
    await page.getByRole('heading', { level: 1, name: 'alice · test-idp' }).waitFor()
    await expect(page.getByRole('region', { name: 'Scopes' }).getByRole('row').count()).resolves.toBeGreaterThan(1)
    await check(page, 'desktop')

    // The provider fails the refresh: Refresh now shows why
    h.idp.failTokenWith = { status: 503, error: 'temporarily_unavailable' }
    await page.getByRole('button', { name: 'Refresh now' }).click()
    await page.locator('#last-error').waitFor()
    expect(await page.locator('#last-error').textContent()).toMatch(/Last refresh error: .*(503|temporarily_unavailable)/)
    await expect(page.getByRole('region', { name: 'Refresh history' }).getByText('connection.refresh_failed').count()).resolves.toBe(1)
    await check(page, 'desktop')
    await shot(page, 'connection')
    // The overview shows the failure by provider and reason
    await goto(page, '#/overview', 'Overview')
    await page
      .getByRole('region', { name: 'Refresh failures', exact: true })
      .getByRole('row', { name: /test-idp temporarily_unavailable 1/ })
      .waitFor()
    await shot(page, 'overview')
    // Once the provider answers again, Refresh now succeeds
    h.idp.failTokenWith = undefined
    await goto(page, `#/connections/${aliceConnectionId}`, 'alice · test-idp')
    await page.getByRole('button', { name: 'Refresh now' }).click()
    await page.getByText('Refreshed: the token is new.').waitFor()
    const refreshed = (await h.latchkey.store.getConnectionById(aliceConnectionId))!
    secrets.push(h.latchkey.ctx.vault.accessToken(refreshed))
    await check(page, 'desktop')

    // Revoke, with a confirmation (Cancel first: nothing happens)
    await page.getByRole('button', { name: 'Revoke' }).click()
    await page.getByRole('dialog', { name: 'Revoke this connection?' }).getByRole('button', { name: 'Cancel' }).click()
    expect(await h.latchkey.store.getConnectionById(aliceConnectionId)).toBeDefined()
    await page.getByRole('button', { name: 'Revoke' }).click()
    const dialog = page.getByRole('dialog', { name: 'Revoke this connection?' })
    expect(await axe(page)).toEqual([])
    await dialog.getByRole('button', { name: 'Revoke' }).click()
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor()
    await page.getByText('No connection matches.').waitFor()
    expect(await h.latchkey.store.getConnectionById(aliceConnectionId)).toBeUndefined()

    await h.latchkey.ctx.audit.flush()
    const actor = `dashboard:${adminKeyId}`
    const mine = (await h.latchkey.store.listAudit({ actor }, 100, 0)).items.map((e) => e.action)
    expect(mine).toEqual(
      expect.arrayContaining(['dashboard.signed_in', 'connection.refresh_failed', 'connection.refreshed', 'connection.revoked']),
    )
    expect(cspErrors).toEqual([])
    await context.close()
  }, 90_000)

  it("a connection's page: requested vs granted scopes (kept after the flow is gone), identity, token expiries, audit entries", async () => {
    // The IdP ignores a scope it does not know: it grants fewer than were asked for.
    const c = await connect('ivan', ['openid', 'profile', 'email', 'offline_access', 'calendar.write'])
    expect(c.scopes).not.toContain('calendar.write')
    expect(c.requested_scopes).toEqual(['openid', 'profile', 'email', 'offline_access', 'calendar.write'])
    // The retention sweep deletes the flow a day after it expires: what was asked stays on the connection.
    await h.latchkey.store.db.deleteFrom('flows').where('connection_id', '=', c.id).execute()
    const refreshExpiry = Date.now() + 30 * 86_400_000
    await h.latchkey.store.updateConnection(c.id, { refresh_token_expires_at: refreshExpiry })
    const view = await api('GET', `/v1/admin/user_connections/${c.id}`)
    expect(view).toMatchObject({ scopes: c.scopes, requested_scopes: c.requested_scopes })

    const { context, page, cspErrors } = await newPage('desktop')
    await signIn(page)
    await goto(page, `#/connections/${c.id}`, 'ivan · test-idp')
    const scopes = page.getByRole('region', { name: 'Scopes' })
    await scopes.getByRole('row').nth(1).waitFor()
    const scopeRows = async () => (await scopes.getByRole('row').allInnerTexts()).map((r) => r.split('\t').map((x) => x.trim()))
    expect(await scopeRows()).toEqual([
      ['Scope', 'Requested', 'Granted'],
      ...c.scopes.map((sc) => [sc, 'yes', 'granted']),
      ['calendar.write', 'yes', 'no'],
    ])
    // Identity, access-token and refresh-token expiry, as the page shows them
    const locale = (iso: string | number) => page.evaluate((x) => new Date(x).toLocaleString(), iso)
    const props = async () =>
      page.evaluate(() =>
        Object.fromEntries(
          Array.from(document.querySelectorAll('dl.props dt')).map((dt) => [dt.textContent, dt.nextElementSibling!.textContent]),
        ),
      )
    let shown = await props()
    expect(shown).toMatchObject({
      User: 'ivan',
      Account: `ivan@example.test · id ivan`,
      'Identity: sub': 'ivan',
      'Identity: email': 'ivan@example.test',
      'Identity: name': 'ivan',
      'Access token expires': await locale(c.expires_at!),
      'Refresh token': `expires ${await locale(refreshExpiry)}`,
    })
    // The audit entries of this connection: its creation, then the operator's refresh, newest first
    await page.getByRole('button', { name: 'Refresh now' }).click()
    await page.getByText('Refreshed: the token is new.').waitFor()
    secrets.push(h.latchkey.ctx.vault.accessToken((await h.latchkey.store.getConnectionById(c.id))!))
    const audit = page.getByRole('region', { name: 'Audit entries of this connection' })
    const auditRows = (await audit.getByRole('row').allInnerTexts()).map((r) => r.split('\t').map((x) => x.trim()))
    expect(auditRows[0]).toEqual(['When', 'Action', 'Actor', 'Detail'])
    expect(auditRows.slice(1).map((r) => [r[1], r[2]])).toEqual(
      expect.arrayContaining([
        ['connection.refreshed', `dashboard:${adminKeyId}`],
        ['connection.created', '—'],
      ]),
    )
    const actions = auditRows.slice(1).map((r) => r[1])
    expect(actions.indexOf('connection.refreshed')).toBeLessThan(actions.indexOf('connection.created'))
    expect(auditRows.find((r) => r[1] === 'connection.created')![3]).toContain('"account_id":"ivan"')
    shown = await props()
    const after = (await h.latchkey.store.getConnectionById(c.id))!
    expect(shown['Access token expires']).toBe(await locale(after.expires_at!))
    await check(page, 'desktop')

    // A connection granted before Latchkey recorded requested scopes: shown as not recorded, never as "no"
    await h.latchkey.store.updateConnection(c.id, { requested_scopes: null })
    await goto(page, '#/connections', 'Connections')
    await goto(page, `#/connections/${c.id}`, 'ivan · test-idp')
    await page.locator('#requested-unknown').waitFor()
    expect((await scopeRows()).slice(1)).toEqual(c.scopes.map((sc) => [sc, 'not recorded', 'granted']))
    await check(page, 'desktop')
    expect(cspErrors).toEqual([])
    await context.close()
  }, 60_000)

  it('desktop: authorizations, add a custom provider, disable it, create and revoke a key, audit export', async () => {
    const { context, page, cspErrors } = await newPage('desktop')
    await signIn(page)

    await goto(page, '#/authorizations', 'Authorizations')
    await page.getByRole('region', { name: 'Pending authorizations' }).getByText('carol').waitFor()
    await page.getByRole('region', { name: 'Failed authorizations' }).getByText('access_denied').waitFor()
    await check(page, 'desktop')
    await shot(page, 'authorizations')

    // Add a custom provider: an invalid one is refused with the config file's message
    await goto(page, '#/providers', 'Providers')
    await check(page, 'desktop')
    // A provider from the configuration is shown with where it is defined, and offers no switch
    const configured = page.getByRole('row', { name: /^test-idp / })
    await configured.getByText(/^defined (in the configuration file|by environment variables): enable, disable or edit it there$/).waitFor()
    expect(await configured.getByRole('button').count()).toBe(0)
    const patch = await fetch(`${h.baseURL}/v1/admin/auth_providers/test-idp`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    })
    expect(patch.status).toBe(400)
    expect((await patch.json()).message).toMatch(/change it there/)
    await page.getByRole('link', { name: 'Add a provider' }).click()
    await page.getByRole('heading', { level: 1, name: 'Add a provider' }).waitFor()
    await page.getByLabel('Id', { exact: true }).fill('acme')
    await page.getByLabel('Description').fill('ACME SSO')
    await page.getByLabel('Client id').fill('acme-client')
    const providerSecret = 'acme-secret-value-1234567890'
    secrets.push(providerSecret)
    await page.getByLabel('Client secret').fill(providerSecret)
    await page.getByLabel('Authorization endpoint', { exact: true }).fill('ftp://acme.example/authorize')
    await page.getByLabel('Token endpoint', { exact: true }).fill('https://acme.example/token')
    await page.getByRole('button', { name: 'Add provider' }).click()
    await page
      .getByRole('alert')
      .filter({ hasText: /authorize_request/ })
      .waitFor()
    await check(page, 'desktop')
    await page.getByLabel('Authorization endpoint', { exact: true }).fill('https://acme.example/authorize')
    await page.getByRole('button', { name: 'Add provider' }).click()
    await page.getByRole('heading', { level: 1, name: 'Providers' }).waitFor()
    await page.getByRole('button', { name: 'Disable acme' }).waitFor()
    expect(h.latchkey.ctx.registry.get('acme')?.clientSecret).toBe(providerSecret)
    await check(page, 'desktop')
    await shot(page, 'providers')
    // Edit: the secret field is empty (write-only) and an edit without it keeps it
    await page.getByRole('link', { name: 'Edit acme' }).click()
    await page.getByRole('heading', { level: 1, name: 'Edit provider acme' }).waitFor()
    expect(await page.getByLabel('Client secret').inputValue()).toBe('')
    await page.getByLabel('Description').fill('ACME single sign-on')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('button', { name: 'Disable acme' }).waitFor()
    expect(h.latchkey.ctx.registry.get('acme')?.description).toBe('ACME single sign-on')
    expect(h.latchkey.ctx.registry.get('acme')?.clientSecret).toBe(providerSecret)
    await page.getByRole('button', { name: 'Disable acme' }).click()
    await page.getByRole('button', { name: 'Enable acme' }).waitFor()
    expect(h.latchkey.ctx.registry.get('acme')?.enabled).toBe(false)

    // API keys: create (shown once), then it is gone from the page; revoke with confirmation
    await goto(page, '#/keys', 'API keys')
    await page.getByLabel('Name').fill('ci deploy')
    await page.getByLabel('Role').selectOption('runtime')
    await page.getByLabel('Expires in (days)').fill('30')
    await page.getByRole('button', { name: 'Create key' }).click()
    const newKey = (await page.locator('#new-key').textContent())!
    expect(newKey).toMatch(/^lk_[a-z0-9]{12}_/)
    await expect(new Latchkey({ apiKey: newKey, baseURL: h.baseURL, maxRetries: 0 }).providers.list()).resolves.toBeDefined()
    await shot(page, 'keys')
    await page.getByRole('button', { name: 'Done' }).click()
    secrets.push(newKey)
    await check(page, 'desktop')
    await page.getByRole('button', { name: 'Revoke ci deploy' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click()
    await page
      .getByRole('row', { name: /ci deploy/ })
      .getByText('revoked')
      .waitFor()

    // Audit: filter by actor, export CSV and JSON with the same filter
    const actor = `dashboard:${adminKeyId}`
    await goto(page, '#/audit', 'Audit')
    await page.getByLabel('Actor').fill(actor)
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByRole('region', { name: 'Audit entries' }).getByText('provider.created').waitFor()
    await check(page, 'desktop')
    await shot(page, 'audit')
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()])
    const csvText = readFileSync((await csv.path())!, 'utf8')
    expect(csvText.split('\r\n')[0]).toBe('id,at,actor,action,user_id,provider_id,connection_id,detail')
    expect(csvText).toContain('api_key.created')
    expect(csvText).not.toContain('token.issued')
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export JSON' }).click()])
    const entries = JSON.parse(readFileSync((await json.path())!, 'utf8')) as Array<{ actor: string; action: string }>
    expect(entries.length).toBeGreaterThan(3)
    expect(entries.every((e) => e.actor === actor)).toBe(true)
    expect(entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['provider.created', 'provider.updated', 'api_key.created', 'api_key.revoked']),
    )
    expect(cspErrors).toEqual([])
    await context.close()
  }, 90_000)

  it('390 px wide: every page is usable and accessible; filters, a key, and by keyboard alone Refresh now and Revoke', async () => {
    const { context, page, cspErrors } = await newPage('mobile')
    await signIn(page)
    await check(page, 'mobile')
    await shot(page, 'overview-390')
    for (const [hash, heading] of [
      ['#/connections', 'Connections'],
      ['#/authorizations', 'Authorizations'],
      ['#/providers', 'Providers'],
      ['#/providers/new', 'Add a provider'],
      ['#/keys', 'API keys'],
      ['#/audit', 'Audit'],
      ['#/webhooks', 'Webhooks'],
      ['#/branding', 'Branding'],
    ] as const) {
      await goto(page, hash, heading)
      await check(page, 'mobile')
    }

    // The Connections filters: provider, then provider and status
    const ivan = (await h.latchkey.store.getConnection('ivan', 'test-idp'))!
    await h.latchkey.store.updateConnection(ivan.id, { status: 'reauth_required' })
    await goto(page, '#/connections', 'Connections')
    const rows = page.getByRole('region', { name: 'Connections' }).getByRole('row')
    await page.getByLabel('Provider', { exact: true }).selectOption('acme')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.waitForURL(/provider_id=acme/)
    await page.getByText('No connection matches.').waitFor()
    await page.getByLabel('Provider', { exact: true }).selectOption('test-idp')
    await page.getByLabel('Status', { exact: true }).selectOption('reauth_required')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.waitForURL(/provider_id=test-idp&status=reauth_required/)
    await expect.poll(() => rows.count()).toBe(2)
    expect(await rows.nth(1).textContent()).toMatch(/^ivan.*reauth required/)
    await check(page, 'mobile')
    await page.getByLabel('Status', { exact: true }).selectOption('active')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.waitForURL(/status=active/)
    const active = (await api('GET', '/v1/admin/user_connections?provider_id=test-idp&status=active')).items as Array<{ user_id: string }>
    expect(active.length).toBeGreaterThan(0)
    await expect.poll(() => rows.count()).toBe(active.length + 1)
    const texts = (await rows.allTextContents()).slice(1)
    expect(texts.every((t) => /active/.test(t) && !t.startsWith('ivan'))).toBe(true)
    await check(page, 'mobile')

    await goto(page, '#/connections', 'Connections')
    await page.getByRole('link', { name: 'bob' }).click()
    await page.getByRole('heading', { level: 1, name: 'bob · test-idp' }).waitFor()
    await check(page, 'mobile')
    await shot(page, 'connection-390')
    const bob = (await h.latchkey.store.getConnection('bob', 'test-idp'))!

    // Keyboard only, at 390 px: Tab through the page to Refresh now, Enter
    await tabTo(page, 'Refresh now')
    await page.keyboard.press('Enter')
    await page.getByText('Refreshed: the token is new.').waitFor()
    secrets.push(h.latchkey.ctx.vault.accessToken((await h.latchkey.store.getConnectionById(bob.id))!))
    await check(page, 'mobile')
    // Revoke: the confirmation takes the focus (on Cancel, the safe choice); Escape cancels it
    await tabTo(page, 'Revoke', (f) => !f.inDialog)
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Revoke this connection?' })
    await dialog.waitFor()
    expect(await focused(page)).toMatchObject({ name: 'Cancel', inDialog: true })
    expect(await axe(page)).toEqual([])
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    expect(await h.latchkey.store.getConnectionById(bob.id)).toBeDefined()
    // Again: Tab stays inside the modal dialog, to its Revoke, and Enter confirms
    await tabTo(page, 'Revoke', (f) => !f.inDialog)
    await page.keyboard.press('Enter')
    await dialog.waitFor()
    await tabTo(page, 'Revoke', (f) => f.inDialog, 3)
    await page.keyboard.press('Enter')
    await page.getByText('Connection revoked.').waitFor()
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor()
    expect(await h.latchkey.store.getConnectionById(bob.id)).toBeUndefined()
    await check(page, 'mobile')

    await goto(page, '#/keys', 'API keys')
    await page.getByLabel('Name').fill('phone key')
    await page.getByRole('button', { name: 'Create key' }).click()
    const key = (await page.locator('#new-key').textContent())!
    secrets.push(key)
    await page.getByRole('button', { name: 'Done' }).click()
    await check(page, 'mobile')
    // Keyboard only: Tab reaches the navigation and Enter follows it
    await tabTo(page, 'Overview', (f) => f.inNav)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    await h.latchkey.ctx.audit.flush()
    const mine = (await h.latchkey.store.listAudit({ actor: `dashboard:${adminKeyId}`, connection_id: bob.id }, 10, 0)).items
    expect(mine.map((e) => e.action)).toEqual(expect.arrayContaining(['connection.refreshed', 'connection.revoked']))
    expect(cspErrors).toEqual([])
    await context.close()
  }, 90_000)

  it('webhooks against the real API: add an endpoint (secret once), see a real delivery, redeliver, disable, enable, rotate, delete', async () => {
    const receiver = await startReceiver()
    const { context, page, cspErrors } = await newPage('desktop')
    await signIn(page)
    await goto(page, '#/webhooks', 'Webhooks')
    await page.getByText('No webhook endpoint.').waitFor()
    await check(page, 'desktop')
    // A URL the outbound guard refuses is refused with the API's message
    await page.getByLabel('Endpoint URL').fill('http://hooks.example/latchkey')
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    await page.getByRole('alert').filter({ hasText: /https/ }).waitFor()
    await page.getByLabel('Endpoint URL').fill(receiver.url)
    await page.getByLabel('Events').fill('connection.*')
    await page.getByLabel('Description').fill('Ops alerts')
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    await page.getByRole('heading', { level: 1, name: `Webhook ${receiver.url}` }).waitFor()
    const secret = (await page.locator('#new-secret').textContent())!
    expect(secret).toMatch(/^whsec_/)
    await shot(page, 'webhook-created')
    await page.getByRole('button', { name: 'Done' }).click()
    secrets.push(secret)
    expect(await page.locator('#new-secret').count()).toBe(0)
    const [endpoint] = (await api('GET', '/v1/admin/webhooks')).items as Array<{ id: string; events: string[]; description: string }>
    expect(endpoint).toMatchObject({ events: ['connection.*'], description: 'Ops alerts' })
    await check(page, 'desktop')

    // A real event: a user connects, the outbox delivers connection.created, signed with the shown secret
    await connect('erin')
    await receiver.until((r) => r.some((x) => x.event.type === 'connection.created'))
    const first = receiver.received.find((x) => x.event.type === 'connection.created')!
    expect(() => new Webhook(secret).verify(first.body, first.headers as Record<string, string>)).not.toThrow()
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Reload deliveries' }).click()
        return page.getByRole('row', { name: /connection\.created delivered 1 200/ }).count()
      })
      .toBe(1)
    await check(page, 'desktop')
    await shot(page, 'webhook')

    // Redeliver: the same webhook-id arrives again
    await page.getByRole('button', { name: /^Redeliver connection\.created/ }).click()
    await page.getByText('Redelivery queued.').waitFor()
    await receiver.until((r) => r.filter((x) => x.id === first.id).length === 2)

    // Disable, then enable
    await page.getByRole('button', { name: 'Disable' }).click()
    await page.getByText('Endpoint disabled.').waitFor()
    expect((await api('GET', `/v1/admin/webhooks/${endpoint!.id}`)).status).toBe('disabled')
    await page.getByRole('button', { name: 'Enable' }).click()
    await page.getByText('Endpoint enabled.').waitFor()
    expect((await api('GET', `/v1/admin/webhooks/${endpoint!.id}`)).status).toBe('enabled')

    // Rotate the secret, with a confirmation: the new one is shown once
    await page.getByRole('button', { name: 'Rotate secret' }).click()
    await page.getByRole('dialog', { name: 'Rotate the signing secret?' }).getByRole('button', { name: 'Rotate secret' }).click()
    await page.getByText('Secret rotated.').waitFor()
    const rotated = (await page.locator('#new-secret').textContent())!
    expect(rotated).toMatch(/^whsec_/)
    expect(rotated).not.toBe(secret)
    await page.getByRole('button', { name: 'Done' }).click()
    secrets.push(rotated)
    await check(page, 'desktop')

    // Delete, with a confirmation
    await page.getByRole('button', { name: 'Delete' }).click()
    await page.getByRole('dialog', { name: 'Delete this endpoint?' }).getByRole('button', { name: 'Delete endpoint' }).click()
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor()
    await page.getByText('No webhook endpoint.').waitFor()
    expect((await api('GET', '/v1/admin/webhooks')).items).toEqual([])
    expect(cspErrors).toEqual([])
    await context.close()
    await receiver.close()
  }, 90_000)

  it('branding: set the app name and accent colour, and an end-user Continue page shows them; restore', async () => {
    const { context, page, cspErrors } = await newPage('desktop')
    await signIn(page)
    await goto(page, '#/branding', 'Branding')
    await check(page, 'desktop')
    // A value branding.ts refuses is refused with its message, and nothing changes
    await page.getByLabel('App name').fill('Acme Robot')
    await page.getByLabel('Accent colour').fill('green')
    await page.getByRole('button', { name: 'Save branding' }).click()
    await page.getByRole('alert').filter({ hasText: 'hex colour' }).waitFor()
    expect((await api('GET', '/v1/admin/branding')).app_name).toBeNull()
    await page.getByLabel('Accent colour').fill('#0A7D4F')
    await page.getByLabel('Support URL').fill('mailto:help@acme.example')
    await page.getByRole('button', { name: 'Save branding' }).click()
    await page.getByText('Branding saved: the end-user pages show it now.').waitFor()
    await expect.poll(() => page.locator('#branding-now').textContent()).toContain('Acme Robot')
    expect(await page.locator('#branding-now').textContent()).toContain('#0a7d4f')
    expect(await page.getByLabel('App name').inputValue()).toBe('Acme Robot')
    await check(page, 'desktop')
    await shot(page, 'branding')

    // The end-user page a person opens from an app's authorization link
    const started = await client.auth.start('frank', 'test-idp', { scopes: ['openid'] })
    const enduser = await context.newPage()
    await enduser.goto(started.url!)
    expect(await enduser.textContent('.lead')).toBe('Acme Robot wants to connect to your Test OIDC server account.')
    expect(await enduser.evaluate(() => getComputedStyle(document.querySelector('button')!).backgroundColor)).toBe('rgb(10, 125, 79)')
    expect(await enduser.getAttribute('footer a', 'href')).toBe('mailto:help@acme.example')
    await enduser.close()

    // Restore: the configured branding (none here) is back
    await page.getByRole('button', { name: 'Restore the configured branding' }).click()
    await page.getByText('Branding restored to the configured values.').waitFor()
    expect(await api('GET', '/v1/admin/branding')).toMatchObject({ app_name: null, accent_color: null, override: {} })
    expect(await page.getByLabel('App name').inputValue()).toBe('')
    expect(cspErrors).toEqual([])
    await context.close()
  }, 60_000)

  it('several accounts of one user and provider: the list and the detail name each account and the default; filter by account', async () => {
    const work = await connect('gina') // the first: the default
    const started = await client.auth.start('gina', 'test-idp', { scopes: ['openid', 'profile', 'offline_access'], account: 'gina-work' })
    await new TestBrowser().authorize(started.url!, { login: 'gina-work' })
    await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    const all = (await api('GET', '/v1/admin/user_connections?user_id=gina')).items as Array<{
      id: string
      default: boolean
      account: { id: string | null; label: string | null }
    }>
    expect(all).toHaveLength(2)
    const second = all.find((c) => c.id !== work.id)!
    expect(second).toMatchObject({ default: false, account: { id: 'gina-work' } })
    for (const c of await Promise.all(all.map((x) => h.latchkey.store.getConnectionById(x.id))))
      secrets.push(h.latchkey.ctx.vault.accessToken(c!), h.latchkey.ctx.vault.refreshToken(c!)!)

    const { context, page, cspErrors } = await newPage('desktop')
    await signIn(page)
    await goto(page, '#/connections?user_id=gina', 'Connections')
    const rows = page.getByRole('region', { name: 'Connections' }).getByRole('row')
    await expect.poll(() => rows.count()).toBe(3)
    await rows.filter({ hasText: 'default' }).first().waitFor()
    expect(await rows.filter({ hasText: 'default' }).count()).toBe(1)
    expect(await rows.filter({ hasText: 'gina-work' }).textContent()).not.toContain('default')
    await check(page, 'desktop')
    await shot(page, 'connections-accounts')
    // The account filter finds the second account only
    await page.getByLabel('Account').fill('gina-work')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.waitForURL(/account=gina-work/)
    await expect.poll(() => rows.count()).toBe(2)
    await rows.getByRole('link', { name: 'gina' }).click()
    await page.getByRole('heading', { level: 1, name: 'gina · test-idp' }).waitFor()
    expect(await page.locator('#default-account').textContent()).toBe('no: apps reach it with account gina-work')
    expect(page.url()).toContain(second.id)
    // Both details carry the same heading, so wait for the content, not the heading, to change.
    await goto(page, `#/connections/${work.id}`, 'gina · test-idp')
    await expect.poll(() => page.locator('#default-account').textContent()).toMatch(/^yes/)
    await check(page, 'desktop')
    expect(cspErrors).toEqual([])
    await context.close()
  }, 60_000)

  it('providers: add a remote MCP server (type: mcp) through the admin provider API, then edit its scopes', async () => {
    const { context, page, cspErrors } = await newPage('desktop')
    await signIn(page)
    await goto(page, '#/providers/new', 'Add a provider')
    await page.getByLabel('Kind').selectOption('mcp')
    await page.getByLabel('Id', { exact: true }).fill('acme-mcp')
    await page.getByLabel('Description').fill('Acme MCP server')
    await check(page, 'desktop')
    // The API's validation (providers/mcp-entry.ts) is shown as it is
    await page.getByLabel('MCP server URL').fill('ftp://mcp.acme.example/mcp')
    await page.getByRole('button', { name: 'Add provider' }).click()
    await page.getByRole('alert').filter({ hasText: 'mcp.server_url' }).waitFor()
    const serverUrl = `http://127.0.0.1:${await freePort()}/mcp`
    await page.getByLabel('MCP server URL').fill(serverUrl)
    await page.getByRole('button', { name: 'Add provider' }).click()
    await page.getByRole('heading', { level: 1, name: 'Providers' }).waitFor()
    await page.getByRole('row', { name: /acme-mcp.*MCP server/ }).waitFor()
    expect(h.latchkey.ctx.registry.get('acme-mcp')?.mcp).toMatchObject({ serverUrl, resourceParameter: true })
    expect((await api('GET', '/v1/admin/auth_providers/acme-mcp')).mcp).toEqual({ server_url: serverUrl, resource_parameter: true })
    await check(page, 'desktop')
    // Edit: the MCP fields are filled in; scopes and the resource parameter change
    await page.getByRole('link', { name: 'Edit acme-mcp' }).click()
    await page.getByRole('heading', { level: 1, name: 'Edit provider acme-mcp' }).waitFor()
    expect(await page.getByLabel('Kind').inputValue()).toBe('mcp')
    expect(await page.getByLabel('MCP server URL').inputValue()).toBe(serverUrl)
    await page.getByLabel('Scopes').fill('files.read files.write')
    await page.getByLabel(/resource parameter/).uncheck()
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('button', { name: 'Disable acme-mcp' }).waitFor()
    expect((await api('GET', '/v1/admin/auth_providers/acme-mcp')).mcp).toEqual({
      server_url: serverUrl,
      resource_parameter: false,
      scopes: ['files.read', 'files.write'],
    })
    expect(cspErrors).toEqual([])
    await context.close()
  }, 60_000)

  it('cookie flags; sign-out ends the session everywhere; idle and absolute expiry; a revoked key ends its sessions', async () => {
    const { context, page } = await newPage('desktop')
    await signIn(page)
    const [cookie] = await context.cookies()
    expect(cookie).toMatchObject({ name: 'latchkey_dashboard', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' })
    expect(await page.evaluate(() => document.cookie)).toBe('')
    const cookieHeader = `${cookie!.name}=${cookie!.value}`

    // Idle timeout: the session was last seen longer ago than the idle limit
    const db = h.latchkey.store.db as unknown as import('kysely').Kysely<{
      dashboard_sessions: { last_seen_at: number; expires_at: number }
    }>
    await db
      .updateTable('dashboard_sessions')
      .set({ last_seen_at: Date.now() - 31 * 60_000 })
      .execute()
    await goto(page, '#/keys', 'Sign in')
    await page.getByText('the dashboard session has expired; sign in again').waitFor()
    expect((await fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { cookie: cookieHeader } })).status).toBe(401)

    // Absolute expiry
    await signIn(page)
    await db
      .updateTable('dashboard_sessions')
      .set({ expires_at: Date.now() - 1000 })
      .execute()
    await goto(page, '#/audit', 'Sign in')
    await page.getByText('expired').first().waitFor()

    // Sign out: the cookie is cleared and the old value is refused (on any process: it is a database row)
    await signIn(page)
    const live = (await context.cookies())[0]!
    const liveHeader = `${live.name}=${live.value}`
    expect((await fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { cookie: liveHeader } })).status).toBe(200)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByText('You are signed out.').waitFor()
    expect(await context.cookies()).toEqual([])
    expect((await fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { cookie: liveHeader } })).status).toBe(401)

    // A revoked admin key ends the sessions signed in with it
    const other = await h.latchkey.apiKeys.create({ name: 'operator 2', role: 'admin' })
    secrets.push(other.key)
    await signIn(page, other.key)
    await h.latchkey.apiKeys.revoke(other.row.id)
    await goto(page, '#/providers', 'Sign in')
    await page.getByText(/revoked or has expired/).waitFor()
    // Neither the session secret nor any other secret is in Latchkey's log (debug level)
    const logs = h.logs.join('')
    for (const secret of [cookie!.value, live.value, ...secrets]) expect(logs).not.toContain(secret)
    await context.close()
  }, 60_000)

  it('CSRF: a change without the session token, with a wrong one, or from another origin is refused', async () => {
    const { context, page } = await newPage('desktop')
    await signIn(page)
    // In the page itself: fetch with the cookie but no CSRF header
    const results = await page.evaluate(async () => {
      const body = JSON.stringify({ name: 'csrf', role: 'admin' })
      const headers = { 'content-type': 'application/json' }
      const none = await fetch('/v1/admin/api_keys', { method: 'POST', headers, body })
      const wrong = await fetch('/v1/admin/api_keys', { method: 'POST', headers: { ...headers, 'x-latchkey-csrf': 'x'.repeat(43) }, body })
      const signOut = await fetch('/dashboard/session', { method: 'DELETE' })
      const read = await fetch('/v1/admin/api_keys')
      return { none: none.status, wrong: wrong.status, signOut: signOut.status, read: read.status }
    })
    expect(results).toEqual({ none: 403, wrong: 403, signOut: 403, read: 200 })
    // The right token from another origin (a page elsewhere cannot read it, but even so)
    const [cookie] = await context.cookies()
    const session = (await page.evaluate(async () => (await fetch('/dashboard/session')).json())) as { csrf_token: string }
    const headers = {
      cookie: `${cookie!.name}=${cookie!.value}`,
      'x-latchkey-csrf': session.csrf_token,
      'content-type': 'application/json',
    }
    const body = JSON.stringify({ name: 'csrf', role: 'admin' })
    const evil = await fetch(`${h.baseURL}/v1/admin/api_keys`, {
      method: 'POST',
      headers: { ...headers, origin: 'http://evil.example' },
      body,
    })
    expect(evil.status).toBe(403)
    const ok = await fetch(`${h.baseURL}/v1/admin/api_keys`, { method: 'POST', headers: { ...headers, origin: h.baseURL }, body })
    expect(ok.status).toBe(201)
    // Sign-in itself only from this origin
    const crossSignIn = await fetch(`${h.baseURL}/dashboard/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ api_key: h.apiKey }),
    })
    expect(crossSignIn.status).toBe(403)
    expect(crossSignIn.headers.get('set-cookie')).toBeNull()
    // An API key still works as before (no CSRF for API clients)
    expect((await fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { authorization: h.apiKey } })).status).toBe(200)
    // The runtime API does not accept the cookie
    expect((await fetch(`${h.baseURL}/v1/providers`, { headers: { cookie: headers.cookie } })).status).toBe(401)
    await context.close()
  })

  it('the hot path has no dashboard hook: /v1/auth/authorize ignores a live session cookie (401) and never reads the session', async () => {
    const signedIn = await fetch(`${h.baseURL}/dashboard/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: h.baseURL },
      body: JSON.stringify({ api_key: h.apiKey }),
    })
    expect(signedIn.status).toBe(201)
    const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string }
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!
    const db = h.latchkey.store.db as unknown as import('kysely').Kysely<{ dashboard_sessions: { id: string; last_seen_at: number } }>
    // Seen a minute ago: any verification of the session would move last_seen_at to now.
    const seen = async () =>
      (await db.selectFrom('dashboard_sessions').select(['id', 'last_seen_at']).orderBy('id').execute()).map((r) => [
        r.id,
        Number(r.last_seen_at),
      ])
    await db
      .updateTable('dashboard_sessions')
      .set({ last_seen_at: Date.now() - 60_000 })
      .execute()
    const before = await seen()
    const browserish = {
      cookie,
      'x-latchkey-csrf': csrf,
      origin: h.baseURL,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
    }
    const authorize = await fetch(`${h.baseURL}/v1/auth/authorize`, {
      method: 'POST',
      headers: browserish,
      body: JSON.stringify({ user_id: 'mallory', auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } } }),
    })
    expect(authorize.status).toBe(401)
    expect(await authorize.json()).toMatchObject({ name: 'UNAUTHENTICATED' })
    expect((await fetch(`${h.baseURL}/v1/auth/status?id=ac_x`, { headers: browserish })).status).toBe(401)
    expect(await seen()).toEqual(before)
    expect(await h.latchkey.store.getConnection('mallory', 'test-idp')).toBeUndefined()
    // The same cookie on the admin API is verified (and touches the session): the probe above works.
    expect((await fetch(`${h.baseURL}/v1/admin/api_keys`, { headers: { cookie } })).status).toBe(200)
    expect(await seen()).not.toEqual(before)
  })
})

describe('dashboard switched off', () => {
  it('LATCHKEY_DASHBOARD=false serves no page and no session routes, and the admin API stays', async () => {
    const off = await startHarness({ port: await freePort(), env: { LATCHKEY_DASHBOARD: 'false' } })
    try {
      expect((await fetch(`${off.baseURL}/dashboard`)).status).toBe(404)
      const r = await fetch(`${off.baseURL}/dashboard/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: off.baseURL },
        body: JSON.stringify({ api_key: off.apiKey }),
      })
      expect(r.status).toBe(404)
      // The admin API endpoints stay: they are API, not dashboard
      expect((await fetch(`${off.baseURL}/v1/admin/stats`, { headers: { authorization: off.apiKey } })).status).toBe(200)
    } finally {
      await off.close()
    }
  })
})

describe('dashboard sign-in limits', () => {
  it('counts failed sign-ins per address like failed API keys (429 once over the limit, even for a good key)', async () => {
    const hl = await startHarness({ port: await freePort(), env: { LATCHKEY_AUTH_FAILURES_PER_MINUTE: '2' } })
    try {
      const attempt = (key: string) =>
        fetch(`${hl.baseURL}/dashboard/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: hl.baseURL },
          body: JSON.stringify({ api_key: key }),
        })
      const wrong = 'lk_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
      expect((await attempt(wrong)).status).toBe(401)
      expect((await attempt(wrong)).status).toBe(401)
      const blocked = await attempt(hl.apiKey)
      expect(blocked.status).toBe(429)
      expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(blocked.headers.get('set-cookie')).toBeNull()
    } finally {
      await hl.close()
    }
  })
})

describe('dashboard on https', () => {
  it('sets a __Host- cookie with Secure, HttpOnly, SameSite=Strict', async () => {
    const hs = await startHarness({ port: await freePort(), config: { publicUrl: 'https://latchkey.example' } })
    try {
      const r = await fetch(`${hs.baseURL}/dashboard/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://latchkey.example' },
        body: JSON.stringify({ api_key: hs.apiKey }),
      })
      expect(r.status).toBe(201)
      const setCookie = r.headers.get('set-cookie')!
      expect(setCookie).toMatch(/^__Host-latchkey_dashboard=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/)
      const body = await r.text()
      expect(body).not.toContain(setCookie.split(';')[0]!.split('=')[1])
    } finally {
      await hs.close()
    }
  })
})
