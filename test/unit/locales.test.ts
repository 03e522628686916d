/**
 * The end-user pages' languages (`locales/*.json`, `src/http/pages/i18n.ts`): every language has
 * every English key with the same placeholders, ships in the npm package, and Accept-Language
 * picks the right one by q-value.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { LOCALES_DIR, loadLocales, negotiate, parseAcceptLanguage, placeholders, translator } from '../../src/http/pages/i18n.js'

const root = new URL('../../', import.meta.url).pathname
const all = loadLocales()
const en = all.get('en')!

describe('locale catalogs', () => {
  it('ships English, German, French, Spanish and Arabic', () => {
    expect([...all.keys()].sort()).toEqual(expect.arrayContaining(['ar', 'de', 'en', 'es', 'fr']))
    expect(all.get('ar')!.dir).toBe('rtl')
    for (const tag of ['en', 'de', 'fr', 'es']) expect(all.get(tag)!.dir).toBe('ltr')
  })

  for (const [tag, locale] of all) {
    it(`${tag}: has every key, no extra key, the same placeholders, and no empty text`, () => {
      expect(Object.keys(locale.messages).sort()).toEqual(Object.keys(en.messages).sort())
      for (const [key, text] of Object.entries(en.messages)) {
        expect(placeholders(locale.messages[key]!), `${tag} ${key}`).toEqual(placeholders(text))
        expect(locale.messages[key]!.trim(), `${tag} ${key}`).not.toBe('')
      }
      expect(['ltr', 'rtl']).toContain(locale.messages['meta.dir'])
    })
  }

  it('every file in locales/ is a language file the loader reads', () => {
    const files = readdirSync(join(root, 'locales')).filter((f) => f.endsWith('.json'))
    expect(files.length).toBe(all.size)
  })

  it('locales/ is where both src/ and dist/ look, and ships in the npm package', () => {
    expect(LOCALES_DIR).toBe(join(root, 'locales/'))
    // The built module sits at the same depth (dist/http/pages/i18n.js).
    expect(new URL('../../../locales/', pathToFileURL(join(root, 'dist/http/pages/i18n.js'))).pathname).toBe(join(root, 'locales/'))
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    )
    const files: string[] = packed.files.map((f: { path: string }) => f.path)
    for (const tag of all.keys()) expect(files).toContain(`locales/${tag}.json`)
  })

  it('fills placeholders and falls back to English for a missing key', () => {
    const { t } = translator('de')
    expect(t('continue.lead', { app: 'Acme', provider: 'GitHub' })).toBe('Acme möchte sich mit Ihrem GitHub-Konto verbinden.')
    const partial = new Map(all)
    partial.set('xx', { tag: 'xx', dir: 'ltr', messages: { 'meta.dir': 'ltr' } })
    expect(translator('xx', partial).t('page.back', { app: 'Acme' })).toBe('Back to Acme')
  })
})

describe('Accept-Language negotiation', () => {
  const tags = ['en', 'de', 'fr', 'es', 'ar', 'pt-br']
  it('orders ranges by q-value, then by position', () => {
    expect(parseAcceptLanguage('fr;q=0.5, de, es;q=0.9, *;q=0.1').map((r) => r.range)).toEqual(['de', 'es', 'fr', '*'])
  })
  it('picks the highest q-value a shipped language matches', () => {
    expect(negotiate('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5', tags)).toBe('fr')
    expect(negotiate('ja, es;q=0.4, de;q=0.3', tags)).toBe('es')
    expect(negotiate('en;q=0.1, de;q=0.2', tags)).toBe('de')
    expect(negotiate('de-AT', tags)).toBe('de')
    expect(negotiate('AR-EG;q=1.0', tags)).toBe('ar')
    expect(negotiate('pt', tags)).toBe('pt-br')
  })
  it('q=0 excludes a language, also from *', () => {
    expect(negotiate('de;q=0, fr;q=0.1', tags)).toBe('fr')
    expect(negotiate('*, en;q=0', tags)).toBe('de')
  })
  it('falls back to English for nothing usable, and ignores malformed ranges and q-values', () => {
    expect(negotiate(undefined, tags)).toBe('en')
    expect(negotiate('', tags)).toBe('en')
    expect(negotiate('ja, zh;q=0.5', tags)).toBe('en')
    expect(negotiate('<script>, de;q=abc, fr;q=2', tags)).toBe('en')
  })
})

describe('shipped files', () => {
  it('are valid JSON objects of strings', () => {
    for (const f of readdirSync(join(root, 'locales'))) {
      const parsed = JSON.parse(readFileSync(join(root, 'locales', f), 'utf8'))
      expect(Object.values(parsed).every((v) => typeof v === 'string')).toBe(true)
    }
  })
})
