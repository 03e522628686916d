/**
 * The page for every browser outcome in every shipped language (`src/http/pages/browser-pages.ts`),
 * and the branding rules (`src/branding.ts`, config and admin API share them).
 */
import { describe, expect, it } from 'vitest'
import { type Branding, brandingInput, mergeBranding, NO_BRANDING } from '../../src/branding.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { type PageOutcome, pageContext, pageFor } from '../../src/http/pages/browser-pages.js'
import { locales } from '../../src/http/pages/i18n.js'
import { pageHeaders, renderPage } from '../../src/http/pages/page.js'

const bind = { flowId: 'ac_1', value: 'v', expiresAt: Date.now() + 60_000 }
const OUTCOMES: Array<Exclude<PageOutcome, { kind: 'redirect' }>> = [
  {
    kind: 'continue',
    flowId: 'ac_1',
    provider: 'GitHub',
    providerOrigin: 'https://github.com',
    bind,
    scopes: [{ scope: 'repo', description: 'Full control of private repositories' }, { scope: 'openid' }, { scope: 'x' }],
  },
  { kind: 'continue', flowId: 'ac_1', provider: 'GitHub', providerOrigin: 'https://github.com', bind, scopes: [] },
  { kind: 'unknown_link' },
  { kind: 'provider_unavailable' },
  { kind: 'expired', stage: 'link' },
  { kind: 'expired', stage: 'sign_in' },
  { kind: 'ended' },
  { kind: 'already_connected', nextUri: 'https://app.example.com/done' },
  { kind: 'link_used' },
  { kind: 'opened_elsewhere' },
  { kind: 'missing_state' },
  { kind: 'unknown_state' },
  { kind: 'replayed' },
  { kind: 'wrong_browser' },
  { kind: 'declined', provider: 'GitHub', nextUri: 'https://app.example.com/done' },
  ...(
    [
      'invalid_request',
      'unauthorized_client',
      'unsupported_response_type',
      'invalid_scope',
      'server_error',
      'temporarily_unavailable',
      'provider_error',
    ] as const
  ).map((code) => ({ kind: 'provider_error', provider: 'GitHub', code, error: code, description: 'details' }) as const),
  { kind: 'exchange_failed', provider: 'GitHub', misconfigured: true, error: 'invalid_client' },
  { kind: 'exchange_failed', provider: 'GitHub', misconfigured: false, error: undefined },
  { kind: 'connected', provider: 'GitHub', verificationOff: false, account: 'octo@example.com' },
  { kind: 'connected', provider: 'GitHub', verificationOff: true },
  { kind: 'not_confirmed' },
  { kind: 'confirmed_elsewhere' },
  { kind: 'cross_site_post' },
]
const branding: Branding = { appName: 'Acme', logoUrl: undefined, accentColor: '#fafafa', supportUrl: 'mailto:help@acme.test' }

describe('every outcome in every language', () => {
  for (const tag of locales().keys()) {
    it(`${tag}: a title, what happened and (for errors) what to do next; no placeholder left`, () => {
      const { t, frame, chrome } = pageContext({ branding, acceptLanguage: tag })
      expect(frame.lang.toLowerCase()).toBe(tag)
      for (const o of OUTCOMES) {
        const page = pageFor(o, t, branding.appName)
        const html = renderPage(page, frame, chrome)
        expect(html, `${tag} ${o.kind}`).not.toMatch(/\{[a-z_]+\}/)
        expect(page.title.length, `${tag} ${o.kind}`).toBeGreaterThan(2)
        if (page.tone === 'error') expect(page.next, `${tag} ${o.kind}`).toBeTruthy()
        if ('nextUri' in o && o.nextUri) expect(html).toContain('href="https:&#47;&#47;app.example.com&#47;done"')
        expect(html).toContain(`dir="${tag === 'ar' ? 'rtl' : 'ltr'}"`)
      }
    })
  }

  it('names the app in the lead, or a neutral "An app you use" without branding', () => {
    const { t } = pageContext({ branding: NO_BRANDING, acceptLanguage: 'en' })
    const page = pageFor(OUTCOMES[0]!, t, undefined)
    expect(page.lead).toBe('An app you use wants to connect to your GitHub account.')
    expect(page.list?.items.map((i) => i.text)).toEqual(['Full control of private repositories', 'Confirm who you are', 'Permission “x”'])
  })

  it('a light accent gets dark button text, and the accent style is allowed by its hash', () => {
    const { frame, chrome, t } = pageContext({ branding, acceptLanguage: 'en' })
    const html = renderPage(pageFor({ kind: 'unknown_link' }, t, 'Acme'), frame, chrome)
    expect(html).toContain(':root{--accent:#fafafa;--on-accent:#111827}')
    expect(pageHeaders(frame)['content-security-policy']!.match(/'sha256-/g)).toHaveLength(2)
    expect(pageHeaders(frame)['content-security-policy']).toContain("img-src 'none'")
  })
})

describe('branding rules', () => {
  it('accepts the documented forms and normalises the colour', () => {
    const ok = brandingInput.parse({
      app_name: ' Acme ',
      logo_url: 'https://cdn.acme.test/l.png',
      accent_color: '#ABC',
      support_url: 'mailto:a@b.c',
    })
    expect(ok).toEqual({ app_name: 'Acme', logo_url: 'https://cdn.acme.test/l.png', accent_color: '#abc', support_url: 'mailto:a@b.c' })
    expect(brandingInput.safeParse({ logo_url: 'data:image/webp;base64,AAAA' }).success).toBe(true)
  })
  it('refuses what could inject or mislead', () => {
    for (const bad of [
      { logo_url: 'https://user:pw@cdn.acme.test/l.png' },
      { logo_url: 'data:text/html;base64,PGI+' },
      { logo_url: 'data:image/png;base64,<script>' },
      { accent_color: '#fff;}body{display:none' },
      { support_url: 'http://acme.test' },
      { app_name: 'x'.repeat(61) },
      { app_name: 'evil\u0000' },
    ])
      expect(brandingInput.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
  })
  it('null clears, absent keeps', () => {
    const base: Branding = { appName: 'A', logoUrl: 'https://x.test/l.png', accentColor: '#000', supportUrl: undefined }
    expect(mergeBranding(base, { logo_url: null, app_name: 'B' })).toEqual({
      appName: 'B',
      logoUrl: undefined,
      accentColor: '#000',
      supportUrl: undefined,
    })
  })
  it('configuration: the file, then LATCHKEY_BRANDING_* over it; a bad value stops the start', () => {
    const c = loadConfig({
      env: { LATCHKEY_BRANDING_APP_NAME: 'Acme', LATCHKEY_BRANDING_ACCENT_COLOR: '#0A7D4F' },
      overrides: { configFile: undefined },
    })
    expect(c.branding).toEqual({ appName: 'Acme', logoUrl: undefined, accentColor: '#0a7d4f', supportUrl: undefined })
    expect(() => loadConfig({ env: { LATCHKEY_BRANDING_LOGO_URL: 'http://x.test/l.png' }, overrides: { configFile: undefined } })).toThrow(
      /LATCHKEY_BRANDING_LOGO_URL/,
    )
    expect(() => loadConfig({ env: { LATCHKEY_BRANDING_ACCENT_COLOR: 'red' }, overrides: { configFile: undefined } })).toThrow(ConfigError)
  })
})
