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
.success .badge{background:#1f9d55}.error .badge{background:#d64545}.warning .badge{background:#c47f00}
p{margin:.5rem 0}a{color:#2457c5}.foot{margin-top:1.5rem;font-size:.8rem;color:#6b7280}`

export const PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`

export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src '${PAGE_STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
}

const ICONS = { success: '✓', error: '!', warning: '!' } as const

export function renderPage(p: { tone: 'success' | 'error' | 'warning'; title: string; message: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(p.title)} · Latchkey</title><style>${STYLE}</style></head>
<body><main class="${p.tone}"><h1><span class="badge" aria-hidden="true">${ICONS[p.tone]}</span>${escapeHtml(p.title)}</h1>
<p>${escapeHtml(p.message)}</p><p class="foot">Latchkey authorization</p></main></body></html>`
}
