/**
 * @module http/pages/page
 * The few HTML pages a user sees (success, declined, expired, errors). All text is escaped;
 * the only style is inline and allowed by its hash in a strict Content-Security-Policy.
 */
import { createHash } from 'node:crypto'

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`)
}

const STYLE = `body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f6f7f9;color:#1d2330}
main{max-width:32rem;margin:2rem;padding:2rem 2.25rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06)}
h1{font-size:1.35rem;margin:0 0 .75rem;display:flex;gap:.6rem;align-items:center}
.badge{display:inline-block;width:1.6rem;height:1.6rem;border-radius:50%;color:#fff;text-align:center;line-height:1.6rem;font-size:1rem}
.success .badge{background:#1f9d55}.error .badge{background:#d64545}.warning .badge{background:#c47f00}.continue .badge{background:#2457c5}
p{margin:.5rem 0}a{color:#2457c5}.foot{margin-top:1.5rem;font-size:.8rem;color:#6b7280}
button{margin-top:1rem;font:inherit;font-weight:600;padding:.6rem 1.2rem;border:0;border-radius:8px;background:#2457c5;color:#fff;cursor:pointer}`

export const PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`

export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src '${PAGE_STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
}

/**
 * Headers for a page whose form posts to this origin and is answered with a redirect to the
 * provider (`redirectOrigin`). Browsers apply `form-action` to every hop of that navigation, and
 * providers redirect on to other origins (a federated login, another domain of theirs), so the
 * policy allows any https origin (and the provider's own origin when it is http on loopback, in
 * development); the form itself only ever posts to a fixed path of ours.
 */
/** Headers for Latchkey's credential page: its form posts to this origin only, and is answered with a page. */
export const CREDENTIAL_PAGE_HEADERS: Record<string, string> = {
  ...PAGE_HEADERS,
  'content-security-policy': `default-src 'none'; style-src '${PAGE_STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
  // Keeps our Origin on the form's POST (no-referrer would send `Origin: null`).
  'referrer-policy': 'same-origin',
}

export function formPageHeaders(redirectOrigin: string): Record<string, string> {
  const extra = redirectOrigin.startsWith('https:') ? '' : ` ${redirectOrigin}`
  return {
    ...PAGE_HEADERS,
    'content-security-policy': `default-src 'none'; style-src '${PAGE_STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'self' https:${extra}; frame-ancestors 'none'`,
    // With no-referrer, browsers send `Origin: null` on the form's POST; same-origin keeps our
    // origin on it and still sends nothing to the provider.
    'referrer-policy': 'same-origin',
  }
}

const ICONS = { success: '✓', error: '!', warning: '!', continue: '→' } as const

export interface PageContent {
  tone: 'success' | 'error' | 'warning' | 'continue'
  title: string
  message: string
  /** A button that POSTs (no fields) to `action`, a URL relative to the page. */
  form?: { action: string; button: string } | undefined
  /** Inputs of that form (Latchkey's credential page) and hidden values (its CSRF token). */
  fields?: Array<{ name: string; label: string; type: 'text' | 'password' }> | undefined
  hidden?: Record<string, string> | undefined
}

export function renderPage(p: PageContent): string {
  const inputs = (p.fields ?? [])
    .map(
      (f) =>
        `<p><label>${escapeHtml(f.label)}<br><input name="${escapeHtml(f.name)}" type="${f.type}" autocomplete="off" spellcheck="false" required></label></p>`,
    )
    .join('')
  const hidden = Object.entries(p.hidden ?? {})
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('')
  const form = p.form
    ? `<form action="${escapeHtml(p.form.action)}" method="post">${hidden}${inputs}<button type="submit">${escapeHtml(p.form.button)}</button></form>`
    : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(p.title)} · Latchkey</title><style>${STYLE}</style></head>
<body><main class="${p.tone}"><h1><span class="badge" aria-hidden="true">${ICONS[p.tone]}</span>${escapeHtml(p.title)}</h1>
<p>${escapeHtml(p.message)}</p>${form}<p class="foot">Latchkey authorization</p></main></body></html>`
}
