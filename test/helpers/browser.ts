/**
 * A scripted browser for end-to-end tests: follows redirects with a cookie jar per host, and
 * submits oidc-provider's sign-in and consent forms (or aborts) like a person clicking through.
 * Also the checks every Chromium page test shares (`checkPage`: axe-core, no secret, no stray
 * "null", no horizontal overflow), for the dashboard and the end-user pages alike.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import { expect } from 'vitest'

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** axe-core's violations on the page as it is now (its source evaluated through the DevTools protocol, not an inline script). */
export async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE)
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }
    const r = await w.axe.run()
    return r.violations.map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`)
  })
}

/**
 * The page's HTML holds none of `secrets`, axe-core finds no accessibility violation, no missing
 * value is rendered as text ("null", "undefined", "NaN"), and nothing is wider than `width`.
 */
export async function checkPage(page: Page, options: { width: number; secrets: Iterable<string> }): Promise<void> {
  const html = await page.content()
  for (const secret of options.secrets) expect(html, 'a secret in the page').not.toContain(secret)
  expect(await axe(page), `axe-core on ${page.url()}`).toEqual([])
  const stray = await page.evaluate(() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    const out: string[] = []
    for (let n = walker.nextNode(); n; n = walker.nextNode())
      if (/^(null|undefined|NaN)$/.test(n.textContent!.trim())) out.push(n.textContent!)
    return out
  })
  expect(stray).toEqual([])
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(options.width)
}

export interface BrowserStep {
  url: string
  status: number
  location: string | undefined
  body: string
}

export class TestBrowser {
  #jar = new Map<string, Map<string, string>>()
  readonly steps: BrowserStep[] = []

  cookieHeader(url: URL): string | undefined {
    const jar = this.#jar.get(url.host)
    if (!jar || jar.size === 0) return undefined
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  #store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      let jar = this.#jar.get(url.host)
      if (!jar) {
        jar = new Map()
        this.#jar.set(url.host, jar)
      }
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name)
      else jar.set(name, value)
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; origin?: string } = {}): Promise<BrowserStep> {
    const u = new URL(url)
    const headers: Record<string, string> = { accept: 'text/html' }
    const cookie = this.cookieHeader(u)
    if (cookie) headers['cookie'] = cookie
    let body: string | undefined
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(init.form).toString()
    }
    // Browsers send Origin on every POST; a form is posted from the page that holds it.
    if ((init.method ?? (body ? 'POST' : 'GET')) === 'POST') headers['origin'] = init.origin ?? u.origin
    const response = await fetch(u, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body: body ?? null, redirect: 'manual' })
    this.#store(u, response)
    const location = response.headers.get('location') ?? undefined
    const step = { url, status: response.status, location: location && new URL(location, u).toString(), body: await response.text() }
    this.steps.push(step)
    return step
  }

  /**
   * Opens an authorization link as a person would: the GET, then Continue on Latchkey's page when
   * it shows one. Returns the answer to the Continue (a redirect to the provider, or an error page).
   */
  async openLink(url: string): Promise<BrowserStep> {
    const page = await this.request(url)
    if (page.status === 200 && /<main class="continue">/.test(page.body)) return this.request(url, { method: 'POST' })
    return page
  }

  /** Follows redirects from `url`, answering sign-in and consent forms, until a page that is not the IdP's. */
  async authorize(
    url: string,
    options: { login?: string; decision?: 'approve' | 'deny'; stopAt?: (u: URL) => boolean } = {},
  ): Promise<BrowserStep> {
    let step = await this.request(url)
    for (let i = 0; i < 20; i++) {
      if (step.location) {
        if (options.stopAt?.(new URL(step.location))) return step
        step = await this.request(step.location)
        continue
      }
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(step.body)
      if (!form || step.status !== 200) return step
      const action = new URL(decode(form[1]!), step.url).toString()
      // Latchkey's own page before the provider: the person presses Continue.
      if (/<main class="continue">/.test(step.body)) {
        step = await this.request(action, { method: 'POST' })
        continue
      }
      const isLogin = /name="login"/.test(step.body)
      if (!isLogin && options.decision === 'deny') {
        const abort = /href="([^"]*\/abort)"/.exec(step.body)
        if (!abort) throw new Error('no abort link on the consent page')
        step = await this.request(new URL(decode(abort[1]!), step.url).toString())
        continue
      }
      const hidden = Object.fromEntries(
        [...step.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, decode(m[2]!)]),
      )
      const form2 = isLogin ? { ...hidden, login: options.login ?? 'alice', password: 'any' } : hidden
      step = await this.request(action, { form: form2 })
    }
    throw new Error('too many steps')
  }
}

function decode(s: string): string {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&#x2F;/g, '/')
    .replace(/&#47;/g, '/')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
}
