/**
 * The quick start: `latchkey serve --dev` serves the built-in demo provider at /demo-idp on its
 * own port, and `latchkey auth demo` gets a token once a person clicks through — here a scripted
 * browser over HTTP, and headless Chromium when Debian's chromium is installed.
 */

import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey, type Latchkey as Server } from '../../src/server.js'
import { TestBrowser } from '../helpers/browser.js'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js'
import { freePort } from '../helpers/ports.js'

let server: Server
let baseURL: string
let apiKey: string

beforeAll(async () => {
  const port = await freePort()
  baseURL = `http://127.0.0.1:${port}`
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-demo-'))
  const config = loadConfig({
    cwd: dir,
    env: { LATCHKEY_BACKGROUND_REFRESH: 'false' },
    overrides: {
      dev: true,
      host: '127.0.0.1',
      port,
      publicUrl: baseURL,
      databaseUrl: join(dir, 'latchkey.db'),
      encryptionKeys: Keyring.generateKey(),
      configFile: undefined,
    },
  })
  server = await createLatchkey(config, { logger: createLogger('warn') })
  await server.listen()
  apiKey = server.initialApiKey!
})
afterAll(async () => server?.close())

describe('demo provider (--dev)', () => {
  it('prints an admin key on first start and registers provider "demo"', () => {
    expect(apiKey).toMatch(/^lk_/)
    expect(server.ctx.registry.get('demo')?.source).toBe('demo')
  })

  it('completes the flow through the mounted demo OAuth server', async () => {
    const client = new Latchkey({ apiKey, baseURL })
    const auth = await client.auth.start('alice', 'demo', { scopes: ['openid', 'profile', 'offline_access'] })
    expect(auth.status).toBe('pending')
    const page = await new TestBrowser().authorize(auth.url!, { login: 'alice' })
    expect(page.body).toContain('Your Latchkey Demo account is now connected')
    const done = await client.auth.waitForCompletion(auth, { timeoutMs: 10_000 })
    expect(done.context?.user_info?.['sub']).toBe('alice')
    const me = await fetch(`${baseURL}/demo-idp/me`, { headers: { authorization: `Bearer ${done.context!.token}` } })
    expect(((await me.json()) as { sub: string }).sub).toBe('alice')
    const c = (await server.store.getConnection('alice', 'demo'))!
    expect(c.refresh_token_enc).not.toBeNull()
  })

  it('`latchkey auth demo` prints the link, waits, and prints the token', async () => {
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'auth', 'demo', '--user', 'bob', '--scopes', 'openid,profile'],
      {
        env: { ...process.env, LATCHKEY_API_KEY: apiKey, LATCHKEY_BASE_URL: baseURL },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    // Wait for the link however long the CLI takes to start (tsx under load took over 10 s), or
    // for the CLI to exit without one; the test timeout bounds the wait.
    const printed = new Promise<void>((resolve) => {
      cli.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        if (/\/oauth\/authorize\/\S+\s/.test(stderr)) resolve()
      })
      cli.once('exit', () => resolve())
    })
    await printed
    const link = /(http\S+\/oauth\/authorize\/\S+)/.exec(stderr)?.[1]
    expect(link, stderr).toBeDefined()
    await new TestBrowser().authorize(link!, { login: 'bob' })
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve))
    expect(code).toBe(0)
    const token = stdout.trim()
    const me = await fetch(`${baseURL}/demo-idp/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(((await me.json()) as { sub: string }).sub).toBe('bob')
  })

  // In CI the browser test must run (.ci/run installs Chromium); elsewhere it needs the Debian package.
  it.skipIf(!chromiumAvailable())('works in a real browser (headless Chromium)', async () => {
    const browser = await launchChromium()
    try {
      const client = new Latchkey({ apiKey, baseURL })
      const auth = await client.auth.start('carol', 'demo', { scopes: ['openid', 'profile'] })
      const page = await browser.newPage()
      await page.goto(auth.url!)
      // Latchkey's page: the link is bound to this browser only when the person continues.
      expect(await page.textContent('h1')).toContain('Connect')
      await page.click('button[type=submit]')
      await page.fill('input[name=login]', 'carol')
      await page.fill('input[name=password]', 'anything')
      await page.click('button[type=submit]')
      await page.click('button[type=submit]')
      await page.waitForSelector('main.success, main.warning', { timeout: 10_000 })
      expect(await page.textContent('h1')).toContain('Connected')
      await page.screenshot({ path: join(tmpdir(), 'latchkey-demo-success.png') })
      const done = await client.auth.waitForCompletion(auth, { timeoutMs: 10_000 })
      expect(done.context?.user_info?.['sub']).toBe('carol')
    } finally {
      await browser.close()
    }
  })

  it.skipIf(!chromiumAvailable())(
    'a link continued on in one browser and abandoned: another browser is told to ask for a new link, and it works (Chromium)',
    async () => {
      const browser = await launchChromium()
      try {
        const client = new Latchkey({ apiKey, baseURL })
        const first = await client.auth.start('dave', 'demo', { scopes: ['openid'] })
        // Browser A continues to the provider's sign-in page, then the person gives up.
        const a = await (await browser.newContext()).newPage()
        await a.goto(first.url!)
        await a.click('button[type=submit]')
        await a.waitForSelector('input[name=login]')
        await a.close()
        // Browser B (its own cookie jar) opens the same link.
        const b = await (await browser.newContext()).newPage()
        const elsewhere = await b.goto(first.url!)
        expect(elsewhere?.status()).toBe(403)
        expect(await b.textContent('h1')).toContain('opened elsewhere')
        expect(await b.textContent('main')).toMatch(/ask it for a new link/i)
        // The app asks again: a new link, which works in B.
        const second = await client.auth.start('dave', 'demo', { scopes: ['openid'] })
        expect(second.id).not.toBe(first.id)
        await b.goto(second.url!)
        await b.click('button[type=submit]')
        await b.fill('input[name=login]', 'dave')
        await b.fill('input[name=password]', 'anything')
        await b.click('button[type=submit]')
        await b.click('button[type=submit]')
        await b.waitForSelector('main.success, main.warning', { timeout: 10_000 })
        const done = await client.auth.waitForCompletion(second, { timeoutMs: 10_000 })
        expect(done.context?.user_info?.['sub']).toBe('dave')
      } finally {
        await browser.close()
      }
    },
  )
})
