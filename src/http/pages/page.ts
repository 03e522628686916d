/**
 * @module http/pages/page
 * The HTML shell of every page a person sees (Latchkey's own pages and the demo provider's):
 * the deployment's branding, the language (`lang`, `dir`), and strict security headers. All text
 * is escaped; no script; the only styles are inline and allowed by their hashes in the
 * Content-Security-Policy; images only from the logo's own origin (or `data:`).
 */
import { createHash } from 'node:crypto'
import type { Branding } from '../../branding.js'

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`)
}

const STYLE = `:root{--accent:#2457c5;--on-accent:#fff}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",sans-serif;margin:0;min-height:100vh;padding:1.25rem;display:flex;align-items:center;justify-content:center;background:#f3f4f7;color:#1d2330}
main{width:100%;max-width:34rem;padding:2rem 2.25rem;background:#fff;border-radius:14px;box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06)}
@media (max-width:480px){body{padding:.75rem}main{padding:1.5rem 1.25rem}}
.brand{display:flex;align-items:center;gap:.6rem;margin:0 0 1.25rem;font-weight:600;color:#374151}
.brand img{flex:none;max-height:2.25rem;max-width:9rem;object-fit:contain}
.brand span,h1 span,.foot span,p,li{min-width:0;overflow-wrap:anywhere}
.pair{display:flex;align-items:center;gap:.75rem;margin:0 0 1rem}
.mono{display:inline-flex;align-items:center;justify-content:center;width:2.75rem;height:2.75rem;border-radius:12px;background:#eef1f6;color:#1d2330;font-weight:700;font-size:1.2rem}
.mono.app{background:var(--accent);color:var(--on-accent)}
.link{color:#9ca3af;font-size:1.2rem}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .75rem;display:flex;gap:.6rem;align-items:flex-start}
.badge{flex:none;display:inline-block;width:1.6rem;height:1.6rem;border-radius:50%;color:#fff;text-align:center;line-height:1.6rem;font-size:1rem}
.success .badge{background:#1f9d55}.error .badge{background:#d64545}.warning .badge{background:#c47f00}.continue .badge,.signin .badge{background:var(--accent);color:var(--on-accent)}
p{margin:.5rem 0}a{color:var(--accent)}
.lead{font-size:1.05rem}
.account{padding:.6rem .8rem;background:#f3f7f4;border-radius:8px;overflow-wrap:anywhere}
ul.scopes{margin:.5rem 0 1rem;padding:0;list-style:none;border:1px solid #e5e7eb;border-radius:10px}
ul.scopes li{padding:.6rem .85rem;border-top:1px solid #e5e7eb;overflow-wrap:anywhere}
ul.scopes li:first-child{border-top:0}
ul.scopes code{display:block;font-size:.75rem;color:#6b7280}
.next{color:#4b5563}
.actions{margin-top:1.25rem;display:flex;flex-wrap:wrap;gap:.75rem;align-items:center}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.65rem 1.25rem;border:0;border-radius:8px;background:var(--accent);color:var(--on-accent);cursor:pointer;text-decoration:none}
form{margin:0}
form.fields{flex:1 1 100%}form.fields button{margin-top:1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.55rem .7rem;border:1px solid #cbd2dc;border-radius:8px}
.secondary{background:#eef1f6;color:#1d2330}
.foot{margin-top:1.5rem;padding-top:1rem;border-top:1px solid #eef0f3;font-size:.8rem;color:#6b7280;display:flex;flex-wrap:wrap;gap:.5rem 1rem;justify-content:space-between}`

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`
const STYLE_HASH = sha256(STYLE)

/** White or near-black text, whichever reads better on the accent (WCAG relative luminance). */
function onAccent(hex: string): string {
  const full = hex.length === 4 ? `#${hex[1]}${hex[1]}${hex[2]}${hex[2]}${hex[3]}${hex[3]}` : hex
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(full.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  const l = 0.2126 * r + 0.7152 * g + 0.0722 * b
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? '#111827' : '#ffffff'
}

/** The accent style block; the colour is validated (`branding.ts`) and re-checked here. */
function accentStyle(branding: Branding): string | undefined {
  const c = branding.accentColor
  if (!c || !/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(c)) return undefined
  return `:root{--accent:${c.toLowerCase()};--on-accent:${onAccent(c.toLowerCase())}}`
}

function imgSrc(branding: Branding): string {
  const logo = branding.logoUrl
  if (!logo) return "'none'"
  if (logo.startsWith('data:image/')) return 'data:'
  try {
    const u = new URL(logo)
    return u.protocol === 'https:' ? u.origin : "'none'"
  } catch {
    return "'none'"
  }
}

export interface PageFrame {
  lang: string
  dir: 'ltr' | 'rtl'
  branding: Branding
}

/**
 * Security headers for a page. `formAction`: where its form may post (`'none'` without a form).
 * A form answered with a redirect to the provider needs that origin allowed too, see
 * {@link providerFormAction}.
 */
export function pageHeaders(frame: PageFrame, formAction = "'none'"): Record<string, string> {
  const accent = accentStyle(frame.branding)
  const styles = [STYLE_HASH, ...(accent ? [sha256(accent)] : [])].join(' ')
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src ${styles}; img-src ${imgSrc(frame.branding)}; base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`,
    'x-frame-options': 'DENY',
    'referrer-policy': formAction === "'none'" ? 'no-referrer' : 'same-origin',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-language': frame.lang,
    vary: 'Accept-Language',
  }
}

/**
 * `form-action` for a page whose form posts to this origin and is answered with a redirect to the
 * provider (`redirectOrigin`). Browsers apply `form-action` to every hop of that navigation, and
 * providers redirect on to other origins (a federated login, another domain of theirs), so the
 * policy allows any https origin (and the provider's own origin when it is http on loopback, in
 * development); the form itself only ever posts to a fixed path of ours. With such a form the
 * referrer policy is same-origin: with no-referrer, browsers send `Origin: null` on the POST.
 */
export function providerFormAction(redirectOrigin: string): string {
  return `'self' https:${redirectOrigin.startsWith('https:') ? '' : ` ${redirectOrigin}`}`
}

const ICONS = { success: '✓', error: '!', warning: '!', continue: '→', signin: '→' } as const

export interface PageContent {
  /** `continue`: Latchkey's Continue page; `signin`: the demo provider's sign-in and consent pages. */
  tone: 'success' | 'error' | 'warning' | 'continue' | 'signin'
  title: string
  /** What happened. */
  lead: string
  /** The connected account, on a success page. */
  account?: string | undefined
  /** A list heading and its items (the Continue page's scopes: a description and the raw scope). */
  list?: { heading: string; items: Array<{ text: string; code?: string | undefined }> } | undefined
  /** What the person can do next. */
  next?: string | undefined
  /** A button that POSTs (no fields but `hidden`) to `action`, a URL relative to the page. */
  form?: { action: string; button: string; hidden?: Record<string, string> } | undefined
  /** Inputs of that form, before its button (Latchkey's credential page). */
  fields?: Array<{ name: string; label: string; type: 'text' | 'password' }> | undefined
  /** A link styled as a button (e.g. "Back to <App>"). */
  link?: { href: string; label: string } | undefined
  /** The two parties, shown as a pair of monograms above the title (the Continue page). */
  pair?: { app: string; provider: string } | undefined
  /** Raw, already-escaped HTML after the text (the demo provider's forms). */
  html?: string | undefined
}

export interface PageChrome {
  /** The name shown at the top and in the title; the app's name, or nothing. */
  appName: string | undefined
  /** "Contact <App> support", linked to the branding's support URL. */
  supportLabel: string | undefined
  footer: string
}

const initial = (s: string) => escapeHtml([...s.trim()][0]?.toUpperCase() ?? '?')

export function renderPage(p: PageContent, frame: PageFrame, chrome: PageChrome): string {
  const b = frame.branding
  const accent = accentStyle(b)
  const brand =
    b.logoUrl || chrome.appName
      ? `<header class="brand">${b.logoUrl && imgSrc(b) !== "'none'" ? `<img src="${escapeHtml(b.logoUrl)}" alt="">` : ''}${chrome.appName ? `<span>${escapeHtml(chrome.appName)}</span>` : ''}</header>`
      : ''
  const pair = p.pair
    ? `<div class="pair" aria-hidden="true"><span class="mono app">${initial(p.pair.app)}</span><span class="link">⇄</span><span class="mono">${initial(p.pair.provider)}</span></div>`
    : ''
  const account = p.account ? `<p class="account">${escapeHtml(p.account)}</p>` : ''
  const list = p.list
    ? `${p.list.heading ? `<p>${escapeHtml(p.list.heading)}</p>` : ''}<ul class="scopes">${p.list.items
        .map((i) => `<li>${escapeHtml(i.text)}${i.code ? `<code dir="ltr">${escapeHtml(i.code)}</code>` : ''}</li>`)
        .join('')}</ul>`
    : ''
  const next = p.next ? `<p class="next">${escapeHtml(p.next)}</p>` : ''
  const hidden = Object.entries(p.form?.hidden ?? {})
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('')
  const inputs = (p.fields ?? [])
    .map(
      (f, i) =>
        `<label for="f${i}">${escapeHtml(f.label)}</label><input id="f${i}" name="${escapeHtml(f.name)}" type="${f.type}" autocomplete="off" spellcheck="false" required>`,
    )
    .join('')
  const form = p.form
    ? `<form action="${escapeHtml(p.form.action)}" method="post"${inputs ? ' class="fields"' : ''}>${hidden}${inputs}<button type="submit">${escapeHtml(p.form.button)}</button></form>`
    : ''
  const link = p.link ? `<a class="button" href="${escapeHtml(p.link.href)}">${escapeHtml(p.link.label)}</a>` : ''
  const actions = form || link ? `<div class="actions">${form}${link}</div>` : ''
  const support =
    b.supportUrl && chrome.supportLabel
      ? `<a href="${escapeHtml(b.supportUrl)}" rel="noopener noreferrer">${escapeHtml(chrome.supportLabel)}</a>`
      : ''
  const site = chrome.appName ?? 'Latchkey'
  return `<!doctype html>
<html lang="${escapeHtml(frame.lang)}" dir="${frame.dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(p.title)} · ${escapeHtml(site)}</title><style>${STYLE}</style>${accent ? `<style>${accent}</style>` : ''}</head>
<body><main class="${p.tone}">${brand}${pair}<h1><span class="badge" aria-hidden="true">${ICONS[p.tone]}</span><span>${escapeHtml(p.title)}</span></h1>
<p class="lead">${escapeHtml(p.lead)}</p>${account}${list}${next}${p.html ?? ''}${actions}<footer class="foot"><span>${support}</span><span>${escapeHtml(chrome.footer)}</span></footer></main></body></html>`
}
