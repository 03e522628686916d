/**
 * @module http/dashboard/shell
 * The dashboard's HTML shell and style sheet, as strings (they ship in `dist/` with the compiled
 * code; tsc copies no other files). No inline script or style: the Content-Security-Policy allows
 * only `/dashboard/assets/app.js` and `/dashboard/assets/app.css` of this origin.
 */

export const SHELL_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Latchkey dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/app.css"><script type="module" src="/dashboard/assets/app.js"></script></head>
<body><header class="top" role="banner"><a class="brand" href="#/overview">Latchkey</a>
<nav id="nav" aria-label="Dashboard sections" hidden></nav><div id="who" class="who"></div></header>
<main id="main" tabindex="-1"><p>Loading…</p><noscript><p>The dashboard needs JavaScript.</p></noscript></main>
<div id="live" class="sr-only" role="status" aria-live="polite"></div></body></html>`

export const APP_CSS = `*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1b2130}
a{color:#1d4ed8}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.6rem 1rem;background:#111827;color:#f9fafb}
.brand{font-weight:700;color:#fff;text-decoration:none;font-size:1.05rem}
#nav{display:flex;flex-wrap:wrap;gap:.25rem;flex:1 1 auto}
#nav a{color:#e5e7eb;text-decoration:none;padding:.3rem .55rem;border-radius:6px}
#nav a[aria-current=page]{background:#374151;color:#fff;font-weight:600}
#nav a:hover{background:#1f2937}
.who{display:flex;gap:.5rem;align-items:center;font-size:.85rem;color:#d1d5db}
.who button{background:#374151;color:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem}
main:focus{outline:none}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:1rem;margin:0 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem;margin-bottom:1rem}
.stat{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:.75rem 1rem}
.stat .n{display:block;font-size:1.6rem;font-weight:700}.stat .l{color:#4b5563;font-size:.85rem}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end}
.field{display:flex;flex-direction:column;gap:.2rem;min-width:0}
.field label{font-size:.85rem;font-weight:600;color:#374151}
.field .hint{font-size:.8rem;color:#4b5563}
input,select,textarea{font:inherit;padding:.4rem .5rem;border:1px solid #6b7280;border-radius:6px;background:#fff;color:#111827;max-width:100%}
textarea{width:100%;min-height:6rem;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.75rem}
button,.button{font:inherit;font-weight:600;padding:.45rem .9rem;border:0;border-radius:6px;background:#1d4ed8;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#e5e7eb;color:#111827}
button.danger{background:#b91c1c;color:#fff}
button:disabled{opacity:.6;cursor:default}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.75rem 0}
.table-wrap{overflow-x:auto;background:#fff;border:1px solid #e5e7eb;border-radius:10px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{background:#f9fafb;font-weight:600;white-space:nowrap}
tr:last-child td{border-bottom:0}
td code,dd code{font-size:.85em;word-break:break-all}
td code.detail{display:block;min-width:16rem;word-break:normal;overflow-wrap:anywhere}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap}
.b-active,.b-enabled,.b-completed,.b-delivered,.b-granted{background:#dcfce7;color:#14532d}
.b-reauth_required,.b-pending,.b-failing,.b-expired,.b-requested{background:#fef3c7;color:#713f12}
.b-revoked,.b-failed,.b-disabled,.b-inactive{background:#fee2e2;color:#7f1d1d}
.b-other{background:#e5e7eb;color:#1f2937}
dl.props{display:grid;grid-template-columns:minmax(9rem,max-content) 1fr;gap:.35rem 1rem;margin:0}
span.swatch{display:inline-block;width:1em;height:1em;border:1px solid #374151;border-radius:3px;vertical-align:-.15em}
dl.props dt{font-weight:600;color:#374151}dl.props dd{margin:0;min-width:0;overflow-wrap:anywhere}
.error-box{border-left:4px solid #b91c1c;background:#fef2f2;padding:.6rem .8rem;border-radius:6px;margin:.5rem 0}
.notice{border-left:4px solid #1d4ed8;background:#eff6ff;padding:.6rem .8rem;border-radius:6px;margin:.5rem 0}
.secret-once{border:2px solid #b45309;background:#fffbeb;padding:.75rem;border-radius:8px;margin:.75rem 0}
.secret-once code{display:block;padding:.4rem;background:#fff;border:1px solid #d1d5db;border-radius:4px;margin:.4rem 0;word-break:break-all}
.muted{color:#4b5563}
.chart{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:1rem;font-size:.85rem;margin:.25rem 0}
.legend span::before{content:"";display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem;border-radius:2px}
.legend .l-started::before{background:#2563eb}.legend .l-completed::before{background:#16a34a}.legend .l-failed::before{background:#dc2626}
.signin{max-width:26rem;margin:3rem auto}
.signin input{width:100%}
.pager{display:flex;gap:.5rem;align-items:center;margin:.5rem 0}
dialog{border:0;border-radius:10px;padding:1.25rem;max-width:min(30rem,92vw);box-shadow:0 10px 30px rgba(0,0,0,.25)}
dialog::backdrop{background:rgba(17,24,39,.5)}
details summary{cursor:pointer;font-weight:600;margin:.5rem 0}
pre{white-space:pre-wrap;word-break:break-all;font-size:.8rem;margin:0}
@media (max-width:640px){
  main{padding:.75rem}
  .top{padding:.5rem .75rem}
  #nav{order:3;flex-basis:100%}
  dl.props{grid-template-columns:1fr}
  dl.props dt{margin-top:.4rem}
  form.filters .field{flex:1 1 100%}
  form.filters input,form.filters select{width:100%}
  th,td{padding:.4rem}
}`
