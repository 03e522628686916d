/**
 * @module http/pages/i18n
 * The end-user pages' languages: one JSON file per language under `locales/` at the package root
 * (`en.json`, `de.json`, …), each a flat map of message key → text with `{name}` placeholders,
 * plus `meta.name` and `meta.dir` (`ltr` or `rtl`). A new file is a new language; no code
 * changes. English is the reference: `test/unit/locales.test.ts` checks every file has every key
 * with the same placeholders. The language of a page follows `Accept-Language` (RFC 9110 §12.5.4).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type Messages = Readonly<Record<string, string>>

export interface Locale {
  /** The language tag, as the file is named (`en`, `de`, `pt-BR`). */
  tag: string
  dir: 'ltr' | 'rtl'
  messages: Messages
}

export const DEFAULT_LOCALE = 'en'

/** `locales/` beside `src/` and `dist/` (this file is `src/http/pages/i18n.ts` or `dist/http/pages/i18n.js`). */
export const LOCALES_DIR = fileURLToPath(new URL('../../../locales/', import.meta.url))

export function loadLocales(dir: string = LOCALES_DIR): Map<string, Locale> {
  const out = new Map<string, Locale>()
  for (const file of readdirSync(dir).sort()) {
    const m = /^([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.json$/.exec(file)
    if (!m) continue
    const raw = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as unknown
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`locales/${file}: not a JSON object`)
    const messages: Record<string, string> = {}
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string') throw new Error(`locales/${file}: ${k} is not a string`)
      messages[k] = v
    }
    out.set(m[1]!.toLowerCase(), { tag: m[1]!, dir: messages['meta.dir'] === 'rtl' ? 'rtl' : 'ltr', messages })
  }
  if (!out.has(DEFAULT_LOCALE)) throw new Error(`locales: ${DEFAULT_LOCALE}.json is missing from ${dir}`)
  return out
}

let cached: Map<string, Locale> | undefined
/** The shipped languages, read once. */
export function locales(): Map<string, Locale> {
  cached ??= loadLocales()
  return cached
}

/** Parses `Accept-Language` into language ranges by preference (q-value, then order); q=0 means "not this". */
export function parseAcceptLanguage(header: string | undefined): Array<{ range: string; q: number }> {
  if (!header) return []
  const out: Array<{ range: string; q: number; i: number }> = []
  header
    .slice(0, 1024)
    .split(',')
    .forEach((part, i) => {
      const [rangeRaw, ...params] = part.trim().split(';')
      const range = rangeRaw?.trim().toLowerCase() ?? ''
      if (!/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/.test(range)) return
      let q = 1
      for (const p of params) {
        const m = /^\s*q\s*=\s*([01](\.\d{0,3})?)\s*$/i.exec(p)
        if (m) q = Math.min(1, Number(m[1]))
        else if (/^\s*q\s*=/i.test(p)) q = -1
      }
      if (q < 0) return
      out.push({ range, q, i })
    })
  return out.sort((a, b) => b.q - a.q || a.i - b.i).map(({ range, q }) => ({ range, q }))
}

/**
 * The best shipped language for an `Accept-Language` header: lookup (RFC 4647 §3.4) over the
 * ranges by q-value, a range matching a language exactly or by prefix (`de-AT` finds `de`), or a
 * more specific shipped language (`pt` finds `pt-br`). Ranges with q=0 exclude a language; `*`
 * means any not excluded. No match: English.
 */
export function negotiate(header: string | undefined, available: Iterable<string> = locales().keys()): string {
  const tags = [...available].map((t) => t.toLowerCase())
  const ranges = parseAcceptLanguage(header)
  const excluded = new Set(ranges.filter((r) => r.q === 0 && r.range !== '*').map((r) => r.range))
  const allowed = (t: string) => !excluded.has(t) && !excluded.has(t.split('-')[0]!)
  for (const { range, q } of ranges) {
    if (q === 0) continue
    if (range === '*')
      return tags.includes(DEFAULT_LOCALE) && allowed(DEFAULT_LOCALE) ? DEFAULT_LOCALE : (tags.find(allowed) ?? DEFAULT_LOCALE)
    // Lookup: strip subtags from the end until a shipped language matches.
    const parts = range.split('-')
    while (parts.length > 0) {
      const candidate = parts.join('-')
      if (tags.includes(candidate) && allowed(candidate)) return candidate
      parts.pop()
    }
    const specific = tags.find((t) => t.startsWith(`${range}-`) && allowed(t))
    if (specific) return specific
  }
  return DEFAULT_LOCALE
}

export type Translate = (key: string, params?: Readonly<Record<string, string>>) => string

/** A translator for one language; a key the language lacks falls back to English, then to the key itself. */
export function translator(tag: string, all: Map<string, Locale> = locales()): { locale: Locale; t: Translate } {
  const locale = all.get(tag.toLowerCase()) ?? all.get(DEFAULT_LOCALE)!
  const en = all.get(DEFAULT_LOCALE)!
  const t: Translate = (key, params = {}) => {
    const text = locale.messages[key] ?? en.messages[key] ?? key
    return text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? params[name]! : whole))
  }
  return { locale, t }
}

/** The `{name}` placeholders of a message, sorted (for the catalog test). */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]!).sort()
}
