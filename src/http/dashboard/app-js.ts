/**
 * @module http/dashboard/app-js
 * The dashboard's script: one hand-written ES module, no build step and no dependency, kept as a
 * string so it ships in `dist/`. It renders every page in the browser from the admin API
 * (`/v1/admin/*`, the same endpoints the SDK calls) with the session cookie and the CSRF header.
 * Text goes into the page with `textContent` and attributes with `setAttribute` only: nothing
 * from the API is parsed as HTML. (Written without template literals: the whole script is one.)
 */

export const APP_JS = String.raw`
const main = document.getElementById('main')
const nav = document.getElementById('nav')
const who = document.getElementById('who')
const live = document.getElementById('live')
let session = null

const SECTIONS = [
  ['#/overview', 'Overview'],
  ['#/connections', 'Connections'],
  ['#/authorizations', 'Authorizations'],
  ['#/providers', 'Providers'],
  ['#/keys', 'API keys'],
  ['#/audit', 'Audit'],
  ['#/webhooks', 'Webhooks'],
  ['#/branding', 'Branding'],
]

// ---- DOM helpers ----------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.className = v
    else if (v === true) el.setAttribute(k, '')
    else el.setAttribute(k, String(v))
  }
  append(el, children)
  return el
}
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue
    el.append(c instanceof Node ? c : String(c))
  }
  return el
}
const SVG = 'http://www.w3.org/2000/svg'
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v))
  return append(el, children)
}
function say(text) {
  live.textContent = ''
  setTimeout(() => { live.textContent = text }, 30)
}
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—')
function badge(status) {
  const known = ['active', 'enabled', 'completed', 'delivered', 'granted', 'reauth_required', 'pending', 'failing', 'expired', 'requested', 'revoked', 'failed', 'disabled', 'inactive']
  return h('span', { class: 'badge ' + (known.includes(status) ? 'b-' + status : 'b-other') }, String(status).replace('_', ' '))
}
function field(label, input, hint) {
  const id = input.id || 'f-' + Math.random().toString(36).slice(2, 9)
  input.id = id
  const hintId = hint ? id + '-hint' : null
  if (hintId) input.setAttribute('aria-describedby', hintId)
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('span', { class: 'hint', id: hintId }, hint) : null)
}
function select(name, options, value) {
  return h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)))
}
function table(caption, headers, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty || 'Nothing to show.')
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' },
    h('table', {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))))
}
function page(title, ...children) {
  document.title = title + ' · Latchkey dashboard'
  const heading = h('h1', { tabindex: '-1' }, title)
  main.replaceChildren(heading)
  append(main, children)
  heading.focus()
}
function errorBox(err) {
  return h('div', { class: 'error-box', role: 'alert' }, err && err.message ? err.message : String(err))
}
function confirmDialog(title, text, action) {
  return new Promise((resolve) => {
    const titleId = 'dlg-' + Math.random().toString(36).slice(2, 8)
    const dlg = h('dialog', { 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title), h('p', {}, text),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => dlg.close('cancel') }, 'Cancel'),
        h('button', { type: 'button', class: 'danger', onclick: () => dlg.close('ok') }, action)))
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok') })
    document.body.append(dlg)
    dlg.showModal()
  })
}
function queryOf(hash) {
  const i = hash.indexOf('?')
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1))
}
function compact(params) {
  const out = new URLSearchParams()
  for (const [k, v] of params) if (v !== '') out.set(k, v)
  return out
}

// ---- API ------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, name, message) { super(message); this.status = status; this.name = name }
}
async function api(method, path, body) {
  const headers = { accept: 'application/json' }
  if (method !== 'GET' && session) headers[session.csrf_header] = session.csrf_token
  if (body !== undefined) headers['content-type'] = 'application/json'
  const r = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) })
  const data = r.status === 204 ? null : await r.json().catch(() => null)
  if (r.status === 401 && path !== '/dashboard/session') {
    session = null
    showSignIn((data && data.message) || 'Your session has ended: sign in again.')
    throw new ApiError(401, 'UNAUTHENTICATED', 'signed out')
  }
  if (!r.ok) throw new ApiError(r.status, (data && data.name) || 'ERROR', (data && data.message) || r.statusText)
  return data
}
const get = (path) => api('GET', path)

// ---- session ----------------------------------------------------------------------------------
function showSignIn(message) {
  nav.hidden = true
  nav.replaceChildren()
  who.replaceChildren()
  const input = h('input', { type: 'password', name: 'api_key', autocomplete: 'off', required: true, spellcheck: 'false' })
  const error = h('div', {})
  const form = h('form', { class: 'card' },
    field('Admin API key', input, 'An admin key (lk_…). It is sent once to sign in and never stored in this browser.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')), error)
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    error.replaceChildren()
    try {
      session = await api('POST', '/dashboard/session', { api_key: input.value.trim() })
      input.value = ''
      if (!location.hash.startsWith('#/')) location.hash = '#/overview'
      start()
    } catch (err) {
      error.replaceChildren(errorBox(err))
    }
  })
  page('Sign in', h('section', { class: 'signin' }, message ? h('p', { class: 'notice', role: 'alert' }, message) : null, form))
}

function shell() {
  nav.hidden = false
  nav.replaceChildren(...SECTIONS.map(([href, label]) => h('a', { href }, label)))
  who.replaceChildren(h('span', {}, 'Signed in as ', h('code', {}, session.actor)),
    h('button', { type: 'button', id: 'sign-out', onclick: signOut }, 'Sign out'))
}
async function signOut() {
  try { await api('DELETE', '/dashboard/session') } catch (err) { if (err.status !== 401) return say(err.message) }
  session = null
  location.hash = ''
  showSignIn('You are signed out.')
}

// ---- router ---------------------------------------------------------------------------------
const ROUTES = [
  [/^#\/overview$/, overview],
  [/^#\/connections$/, connections],
  [/^#\/connections\/([^/?]+)$/, connectionPage],
  [/^#\/authorizations$/, authorizations],
  [/^#\/providers$/, providers],
  [/^#\/providers\/new$/, (q) => providerForm(null, q)],
  [/^#\/providers\/([^/?]+)\/edit$/, (q, id) => providerForm(decodeURIComponent(id), q)],
  [/^#\/keys$/, keys],
  [/^#\/audit$/, audit],
  [/^#\/webhooks$/, webhooks],
  [/^#\/webhooks\/([^/?]+)$/, webhookPage],
  [/^#\/branding$/, (q) => branding(q)],
]
async function route() {
  if (!session) return
  const hash = location.hash || '#/overview'
  if (!hash.startsWith('#/')) return
  const path = hash.split('?')[0]
  for (const a of nav.querySelectorAll('a')) {
    const here = path === a.getAttribute('href') || path.startsWith(a.getAttribute('href') + '/')
    if (here) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  for (const [re, render] of ROUTES) {
    const m = re.exec(path)
    if (!m) continue
    try {
      await render(queryOf(hash), ...m.slice(1))
    } catch (err) {
      if (err.status !== 401) page('Something went wrong', errorBox(err))
    }
    return
  }
  page('Not found', h('p', {}, 'No such page. ', h('a', { href: '#/overview' }, 'Go to the overview')))
}
window.addEventListener('hashchange', route)

// ---- overview -------------------------------------------------------------------------------
async function overview() {
  const st = await get('/v1/admin/stats?hours=24')
  const c = st.connections_by_status
  const stat = (n, label, href) => h('a', { class: 'stat', href }, h('span', { class: 'n' }, String(n)), h('span', { class: 'l' }, label))
  const totals = st.authorizations.reduce((t, b) => ({ started: t.started + b.started, completed: t.completed + b.completed, failed: t.failed + b.failed }), { started: 0, completed: 0, failed: 0 })
  page('Overview',
    h('div', { class: 'cards' },
      stat(c.active, 'Active connections', '#/connections?status=active'),
      stat(c.reauth_required, 'Need reauthorization', '#/connections?status=reauth_required'),
      stat(c.revoked, 'Revoked', '#/connections?status=revoked'),
      stat(st.open_flows, 'Pending authorizations', '#/authorizations')),
    h('section', { class: 'card', 'aria-labelledby': 'h-auth' },
      h('h2', { id: 'h-auth' }, 'Authorizations, last 24 hours'),
      h('div', { class: 'legend', 'aria-hidden': 'true' },
        h('span', { class: 'l-started' }, 'started'), h('span', { class: 'l-completed' }, 'completed'), h('span', { class: 'l-failed' }, 'failed')),
      barChart(st.authorizations, totals.started + ' started, ' + totals.completed + ' completed, ' + totals.failed + ' failed in the last 24 hours'),
      h('details', {}, h('summary', {}, 'As a table'),
        table('Authorizations per hour', ['Hour', 'Started', 'Completed', 'Failed'],
          st.authorizations.map((b) => [when(b.hour_start), String(b.started), String(b.completed), String(b.failed)])))),
    h('section', { class: 'card', 'aria-labelledby': 'h-ref' },
      h('h2', { id: 'h-ref' }, 'Refresh failures by provider and reason, last 24 hours'),
      failureBars(st.refresh_failures),
      table('Refresh failures', ['Provider', 'Reason', 'Count', 'Last'],
        st.refresh_failures.map((f) => [
          h('a', { href: '#/connections?provider_id=' + encodeURIComponent(f.provider_id) }, f.provider_id),
          h('code', {}, f.reason), String(f.count), when(f.last_at)]),
        'No refresh failed in the last 24 hours.')))
}
function barChart(buckets, label) {
  const W = 720, H = 160, pad = 4
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.started, b.completed + b.failed)))
  const slot = W / buckets.length
  const bw = Math.max(2, slot / 2 - pad)
  const y = (n) => (H - 20) * (n / max)
  const svg = s('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label })
  buckets.forEach((b, i) => {
    const x = i * slot + pad
    svg.append(s('rect', { x, y: H - 20 - y(b.started), width: bw, height: y(b.started), fill: '#2563eb' }, s('title', {}, when(b.hour_start) + ': ' + b.started + ' started')))
    svg.append(s('rect', { x: x + bw + 1, y: H - 20 - y(b.completed), width: bw, height: y(b.completed), fill: '#16a34a' }, s('title', {}, b.completed + ' completed')))
    svg.append(s('rect', { x: x + bw + 1, y: H - 20 - y(b.completed) - y(b.failed), width: bw, height: y(b.failed), fill: '#dc2626' }, s('title', {}, b.failed + ' failed')))
    if (i % 6 === 0) svg.append(s('text', { x, y: H - 5, 'font-size': 11, fill: '#374151' }, new Date(b.hour_start).getHours() + ':00'))
  })
  svg.append(s('line', { x1: 0, x2: W, y1: H - 20, y2: H - 20, stroke: '#9ca3af' }))
  return svg
}
function failureBars(failures) {
  if (failures.length === 0) return null
  const top = failures.slice(0, 8)
  const max = Math.max(...top.map((f) => f.count))
  const W = 720, row = 26
  const svg = s('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + row * top.length, role: 'img', 'aria-label': 'Refresh failures: ' + top.map((f) => f.provider_id + ' ' + f.reason + ' ' + f.count).join(', ') })
  top.forEach((f, i) => {
    svg.append(s('text', { x: 0, y: i * row + 17, 'font-size': 12, fill: '#1f2937' }, f.provider_id + ' · ' + f.reason))
    svg.append(s('rect', { x: 300, y: i * row + 5, width: Math.max(2, 380 * f.count / max), height: 16, fill: '#dc2626' }))
    svg.append(s('text', { x: 305 + 380 * f.count / max, y: i * row + 17, 'font-size': 12, fill: '#1f2937' }, String(f.count)))
  })
  return svg
}

// ---- connections ----------------------------------------------------------------------------
async function providerOptions(any) {
  const list = await get('/v1/admin/auth_providers')
  return [['', any]].concat(list.items.map((p) => [p.id, p.id]))
}
async function connections(q) {
  const limit = 25
  const offset = Number(q.get('offset') || 0)
  const params = compact(new URLSearchParams({ user_id: q.get('user_id') || '', provider_id: q.get('provider_id') || '', status: q.get('status') || '', account: q.get('account') || '' }))
  const [list, provs] = await Promise.all([
    get('/v1/admin/user_connections?' + params + '&limit=' + limit + '&offset=' + offset),
    providerOptions('Any provider'),
  ])
  const form = h('form', { class: 'filters card', role: 'search', 'aria-label': 'Filter connections' },
    field('User id', h('input', { name: 'user_id', value: q.get('user_id') || '', autocomplete: 'off' })),
    field('Provider', select('provider_id', provs, q.get('provider_id') || '')),
    field('Status', select('status', [['', 'Any status'], ['active', 'Active'], ['reauth_required', 'Needs reauthorization'], ['revoked', 'Revoked']], q.get('status') || '')),
    field('Account', h('input', { name: 'account', value: q.get('account') || '', autocomplete: 'off' }), 'Account id or label at the provider'),
    h('button', { type: 'submit' }, 'Search'))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    location.hash = '#/connections?' + compact(new FormData(form))
  })
  const rows = list.items.map((c) => [
    h('a', { href: '#/connections/' + encodeURIComponent(c.id) }, c.user_id),
    c.provider_id,
    accountCell(c),
    badge(c.connection_status),
    when(c.expires_at),
    c.last_refresh_error ? h('span', {}, c.last_refresh_error) : '—',
  ])
  const pager = h('div', { class: 'pager' },
    h('span', { class: 'muted' }, list.total_count === 0 ? '' : (offset + 1) + '–' + (offset + list.page_count) + ' of ' + list.total_count),
    offset > 0 ? h('a', { class: 'button secondary', href: '#/connections?' + compact(new URLSearchParams([...params, ['offset', String(Math.max(0, offset - limit))]])) }, 'Previous') : null,
    offset + list.page_count < list.total_count ? h('a', { class: 'button secondary', href: '#/connections?' + compact(new URLSearchParams([...params, ['offset', String(offset + limit)]])) }, 'Next') : null)
  page('Connections', form,
    table('Connections', ['User', 'Provider', 'Account', 'Status', 'Token expires', 'Last refresh error'], rows, 'No connection matches.'),
    pager)
}

// A user may connect several accounts of one provider: each row names its account, and the default one.
function accountCell(c) {
  const name = c.account.label || c.account.id || '—'
  return h('span', {}, name, c.account.id && c.account.id !== name ? h('span', { class: 'muted' }, ' · id ' + c.account.id) : null,
    c.default ? [' ', h('span', { class: 'badge b-other', title: 'What authorize without an account answers with' }, 'default')] : null)
}

async function connectionPage(_q, rawId, notice) {
  const id = decodeURIComponent(rawId)
  const enc = encodeURIComponent(id)
  const [c, entries] = await Promise.all([
    get('/v1/admin/user_connections/' + enc),
    get('/v1/admin/audit?limit=200&connection_id=' + enc),
  ])
  // What the last grant asked for is kept on the connection (its flow is deleted a day after it
  // expires); null on connections granted before Latchkey recorded it: shown as unknown, not "no".
  const requested = c.requested_scopes
  const allScopes = [...new Set([...(requested || []), ...c.scopes])]
  const scopeRows = allScopes.map((sc) => [h('code', {}, sc),
    requested === null ? 'not recorded' : requested.includes(sc) ? 'yes' : 'no',
    c.scopes.includes(sc) ? badge('granted') : 'no'])
  const history = entries.items.filter((e) => e.action.startsWith('connection.refresh') || e.action === 'connection.reauth_required')
  const status = h('div', {})
  const refreshBtn = h('button', { type: 'button', id: 'refresh-now' }, 'Refresh now')
  refreshBtn.addEventListener('click', async () => {
    refreshBtn.disabled = true
    try {
      const r = await api('POST', '/v1/admin/user_connections/' + enc + '/refresh')
      await connectionPage(null, rawId, r.outcome === 'refreshed' ? 'Refreshed: the token is new.' : r.outcome === 'not_refreshed' ? 'Not refreshed: ' + r.error : 'Refresh ' + r.outcome.replace('_', ' ') + ': ' + (r.error || ''))
    } catch (err) {
      if (err.status !== 401) status.replaceChildren(errorBox(err))
      refreshBtn.disabled = false
    }
  })
  const revokeBtn = h('button', { type: 'button', class: 'danger', id: 'revoke' }, 'Revoke')
  revokeBtn.addEventListener('click', async () => {
    if (!(await confirmDialog('Revoke this connection?', 'The token of ' + c.user_id + ' at ' + c.provider_id + ' is revoked at the provider where it can be, and the connection is deleted. The user has to authorize again.', 'Revoke'))) return
    try {
      await api('DELETE', '/v1/admin/user_connections/' + enc)
      location.hash = '#/connections?user_id=' + encodeURIComponent(c.user_id)
      say('Connection revoked.')
    } catch (err) {
      if (err.status !== 401) status.replaceChildren(errorBox(err))
    }
  })
  const info = Object.entries(c.provider_user_info || {}).filter(([k]) => ['sub', 'email', 'name', 'login', 'preferred_username', 'id'].includes(k))
  page(c.user_id + ' · ' + c.provider_id,
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
    h('div', { class: 'actions' }, refreshBtn, revokeBtn, h('a', { class: 'button secondary', href: '#/connections' }, 'All connections')),
    status,
    c.last_refresh_error ? h('div', { class: 'error-box', id: 'last-error' }, h('strong', {}, 'Last refresh error: '), c.last_refresh_error,
      ' (' + c.refresh_failures + ' failure' + (c.refresh_failures === 1 ? '' : 's') + ' in a row)') : null,
    h('section', { class: 'card', 'aria-labelledby': 'h-c' }, h('h2', { id: 'h-c' }, 'Connection'),
      h('dl', { class: 'props' },
        h('dt', {}, 'Status'), h('dd', {}, badge(c.connection_status)),
        h('dt', {}, 'Connection id'), h('dd', {}, h('code', {}, c.id)),
        h('dt', {}, 'User'), h('dd', {}, c.user_id),
        h('dt', {}, 'Provider'), h('dd', {}, c.provider_id + ' (' + c.provider_description + ')'),
        h('dt', {}, 'Account'), h('dd', {}, (c.account.label || '—') + (c.account.id ? ' · id ' + c.account.id : '')),
        h('dt', {}, 'Default account'), h('dd', { id: 'default-account' }, c.default ? 'yes: authorize without an account answers with this one' : 'no: apps reach it with account ' + (c.account.id || c.id)),
        info.map(([k, v]) => [h('dt', {}, 'Identity: ' + k), h('dd', {}, String(v))]),
        h('dt', {}, 'Access token expires'), h('dd', {}, when(c.expires_at)),
        h('dt', {}, 'Refresh token'), h('dd', {}, c.has_refresh_token ? (c.refresh_token_expires_at ? 'expires ' + when(c.refresh_token_expires_at) : 'held, no expiry given') : 'none'),
        h('dt', {}, 'Last refresh'), h('dd', {}, when(c.last_refresh_at)),
        h('dt', {}, 'Last used'), h('dd', {}, when(c.last_used_at)),
        h('dt', {}, 'Created'), h('dd', {}, when(c.created_at)),
        h('dt', {}, 'Updated'), h('dd', {}, when(c.updated_at)))),
    h('section', { 'aria-labelledby': 'h-s' }, h('h2', { id: 'h-s' }, 'Scopes: requested and granted'),
      requested === null ? h('p', { class: 'muted', id: 'requested-unknown' }, 'What was requested is not recorded for this connection: it was granted before Latchkey kept it. The next authorization records it.') : null,
      table('Scopes', ['Scope', 'Requested', 'Granted'], scopeRows, 'No scopes.')),
    h('section', {}, h('h2', {}, 'Refresh history'),
      table('Refresh history', ['When', 'What', 'Actor', 'Detail'], history.map((e) => [when(e.at), e.action, e.actor || 'Latchkey', detail(e.detail)]), 'No refresh recorded.')),
    h('section', { 'aria-labelledby': 'h-a' }, h('h2', { id: 'h-a' }, 'Audit entries'),
      table('Audit entries of this connection', ['When', 'Action', 'Actor', 'Detail'], entries.items.map((e) => [when(e.at), e.action, e.actor || '—', detail(e.detail)]), 'No audit entries.')))
}
const detail = (d) => (d ? h('code', { class: 'detail' }, JSON.stringify(d)) : '—')

// ---- authorizations -------------------------------------------------------------------------
async function authorizations() {
  const [pending, failed] = await Promise.all([get('/v1/admin/flows?status=pending&limit=100'), get('/v1/admin/flows?status=failed&limit=100')])
  page('Authorizations',
    h('section', { 'aria-labelledby': 'h-p' }, h('h2', { id: 'h-p' }, 'Pending (' + pending.total_count + ')'),
      table('Pending authorizations', ['User', 'Provider', 'Requested scopes', 'Opened', 'Started', 'Expires'],
        pending.items.map((f) => [f.user_id, f.provider_id, f.requested_scopes.join(' ') || '—', f.opened_at ? 'yes' : 'not yet', when(f.created_at), when(f.expires_at)]),
        'No pending authorization.')),
    h('section', { 'aria-labelledby': 'h-f' }, h('h2', { id: 'h-f' }, 'Failed (' + failed.total_count + ')'),
      table('Failed authorizations', ['User', 'Provider', 'Reason', 'Description', 'Started'],
        failed.items.map((f) => [f.user_id, f.provider_id, h('code', {}, f.error || 'unknown'), f.error_description || '—', when(f.created_at)]),
        'No failed authorization.')))
}

// ---- providers ------------------------------------------------------------------------------
async function providers(q) {
  const [list, cat] = await Promise.all([get('/v1/admin/auth_providers'), get('/v1/admin/provider_catalog')])
  const status = h('div', {})
  const rows = list.items.map((p) => {
    const actions = h('div', { class: 'actions' })
    if (p.source === 'admin') {
      const on = p.status === 'active'
      actions.append(h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try {
          await api('PATCH', '/v1/admin/auth_providers/' + encodeURIComponent(p.id), { enabled: !on })
          await providers(q)
          say('Provider ' + p.id + (on ? ' disabled.' : ' enabled.'))
        } catch (err) { if (err.status !== 401) status.replaceChildren(errorBox(err)) }
      } }, (on ? 'Disable ' : 'Enable ') + p.id))
      actions.append(h('a', { class: 'button secondary', href: '#/providers/' + encodeURIComponent(p.id) + '/edit' }, 'Edit ' + p.id))
    } else {
      // The configuration is the deployment's record of what is enabled: say where to change it.
      actions.append(h('span', { class: 'muted' }, p.source === 'demo'
        ? 'the built-in demo provider (--dev)'
        : (p.source === 'env' ? 'defined by environment variables' : 'defined in the configuration file') + ': enable, disable or edit it there'))
    }
    return [h('code', {}, p.id), p.description, p.mcp ? h('span', {}, 'MCP server ', h('code', {}, p.mcp.server_url)) : p.provider_id || 'custom OAuth 2.0', p.source, badge(p.status === 'active' ? 'enabled' : 'disabled'),
      p.oauth2.client_secret.exists ? 'set (never shown)' : 'none', actions]
  })
  page('Providers', status,
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/providers/new', id: 'add-provider' }, 'Add a provider')),
    h('section', { 'aria-labelledby': 'h-cf' }, h('h2', { id: 'h-cf' }, 'Configured'),
      table('Configured providers', ['Id', 'Description', 'Type', 'Source', 'Status', 'Client secret', 'Actions'], rows, 'No provider is configured yet.')),
    h('section', { 'aria-labelledby': 'h-cat' }, h('h2', { id: 'h-cat' }, 'Catalog (' + cat.items.length + ' built in)'),
      h('details', {}, h('summary', {}, 'Show the catalog'),
        table('Provider catalog', ['Type', 'Name', 'Configured as', 'Refresh tokens', 'Revocation'],
          cat.items.map((d) => [h('code', {}, d.id), d.display_name, d.configured_ids.join(', ') || '—', d.refresh_tokens, d.revocation ? 'yes' : 'no'])))))
}

function deepMerge(a, b) {
  const out = Object.assign({}, a)
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? deepMerge(out[k], v) : v
  }
  return out
}

async function providerForm(id) {
  const cat = await get('/v1/admin/provider_catalog')
  const existing = id ? await get('/v1/admin/auth_providers/' + encodeURIComponent(id)) : null
  const o = existing ? existing.oauth2 : null
  const kind = select('kind', [['custom', 'Custom OAuth 2.0 provider'], ['catalog', 'From the catalog'], ['mcp', 'Remote MCP server']],
    existing && existing.mcp ? 'mcp' : existing && existing.provider_id ? 'catalog' : 'custom')
  const m = existing && existing.mcp
  if (existing) kind.disabled = true
  const inp = (name, value, attrs) => h('input', Object.assign({ name, value: value || '', autocomplete: 'off', spellcheck: 'false' }, attrs || {}))
  const f = {
    id: inp('id', existing && existing.id, { required: true, readonly: !!existing }),
    description: inp('description', existing && existing.description),
    type: select('provider_id', cat.items.map((d) => [d.id, d.display_name + ' (' + d.id + ')']), existing && existing.provider_id),
    client_id: inp('client_id', o && o.client_id, { required: !existing }),
    client_secret: h('input', { name: 'client_secret', type: 'password', autocomplete: 'new-password', value: '' }),
    authorize: inp('authorize_endpoint', o && o.authorize_request.endpoint, { type: 'url' }),
    token: inp('token_endpoint', o && o.token_request.endpoint, { type: 'url' }),
    auth_method: select('auth_method', [['client_secret_basic', 'client_secret_basic'], ['client_secret_post', 'client_secret_post'], ['none', 'none (public client)']], o ? o.token_request.auth_method : 'client_secret_basic'),
    delimiter: select('scope_delimiter', [[' ', 'space'], [',', 'comma']], o ? o.scope_delimiter : ' '),
    pkce: h('input', { type: 'checkbox', name: 'pkce', checked: o ? o.pkce.enabled : true }),
    refresh: inp('refresh_endpoint', o && o.refresh_request ? o.refresh_request.endpoint : '', { type: 'url' }),
    userinfo: inp('user_info_endpoint', o && o.user_info_request ? o.user_info_request.endpoint : '', { type: 'url' }),
    extra: h('textarea', { name: 'extra', spellcheck: 'false' }),
    settings: h('textarea', { name: 'settings', spellcheck: 'false' }),
    server_url: inp('server_url', m && m.server_url, { type: 'url' }),
    mcp_scopes: inp('mcp_scopes', m && m.scopes ? m.scopes.join(' ') : ''),
    resource: h('input', { type: 'checkbox', name: 'resource_parameter', checked: m ? m.resource_parameter : true }),
  }
  const custom = h('fieldset', { class: 'card' }, h('legend', {}, 'OAuth 2.0 endpoints (engine.yaml oauth2 block)'),
    h('div', { class: 'grid' },
      field('Authorization endpoint', f.authorize), field('Token endpoint', f.token),
      field('Token endpoint authentication', f.auth_method), field('Scope delimiter', f.delimiter),
      field('Refresh endpoint', f.refresh, 'Empty: the token endpoint'), field('User info endpoint', f.userinfo, 'Optional')),
    h('div', { class: 'field' }, h('label', {}, f.pkce, ' Use PKCE (S256)')),
    field('More oauth2 fields (JSON)', f.extra, 'Merged into the oauth2 block, as in engine.yaml: e.g. {"user_info_request": {"triggers": {"on_token_grant": true}}}'))
  const catalog = h('fieldset', { class: 'card' }, h('legend', {}, 'Catalog provider'),
    field('Provider type', f.type), field('Settings (JSON)', f.settings, 'Values for the type\'s settings, e.g. {"subdomain": "acme"}'))
  const mcp = h('fieldset', { class: 'card' }, h('legend', {}, 'Remote MCP server (type: mcp)'),
    field('MCP server URL', f.server_url, 'The MCP endpoint, e.g. https://mcp.example.com/mcp; its authorization server and endpoints are discovered per flow'),
    field('Scopes', f.mcp_scopes, 'Optional, separated by spaces: else the server\'s challenge or metadata decides'),
    h('div', { class: 'field' }, h('label', {}, f.resource, ' Send the RFC 8707 resource parameter (uncheck for servers that reject it)')))
  const status = h('div', {})
  const sync = () => { custom.hidden = kind.value !== 'custom'; catalog.hidden = kind.value !== 'catalog'; mcp.hidden = kind.value !== 'mcp'; f.client_id.required = !existing && kind.value !== 'mcp' }
  kind.addEventListener('change', sync)
  sync()
  const form = h('form', { novalidate: true, id: 'provider-form' },
    h('div', { class: 'card grid' },
      field('Kind', kind),
      field('Id', f.id, existing ? 'The id cannot change.' : 'Letters, digits, ".", "_" or "-"; apps ask for it by this id.'),
      field('Description', f.description),
      field('Client id', f.client_id),
      field('Client secret', f.client_secret, existing ? 'Write-only: leave empty to keep the stored secret.' : 'Write-only: stored encrypted and never shown again.')),
    custom, catalog, mcp, status,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, existing ? 'Save changes' : 'Add provider'), h('a', { class: 'button secondary', href: '#/providers' }, 'Cancel')))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    status.replaceChildren()
    let body
    try {
      body = { id: f.id.value.trim() }
      if (f.description.value.trim()) body.description = f.description.value.trim()
      if (f.client_id.value.trim()) body.client_id = f.client_id.value.trim()
      if (f.client_secret.value) body.client_secret = f.client_secret.value
      if (kind.value === 'mcp') {
        if (!existing) body.type = 'mcp'
        body.mcp = { server_url: f.server_url.value.trim(), resource_parameter: f.resource.checked }
        const sc = f.mcp_scopes.value.split(/[\s,]+/).filter((x) => x !== '')
        if (sc.length > 0) body.mcp.scopes = sc
      } else if (kind.value === 'catalog') {
        if (!existing) body.provider_id = f.type.value
        if (f.settings.value.trim()) body.settings = JSON.parse(f.settings.value)
      } else {
        const oauth2 = {
          scope_delimiter: f.delimiter.value,
          pkce: { enabled: f.pkce.checked, code_challenge_method: 'S256' },
          authorize_request: { endpoint: f.authorize.value.trim() },
          token_request: { endpoint: f.token.value.trim(), auth_method: f.auth_method.value },
        }
        if (!existing) {
          oauth2.authorize_request.params = { response_type: 'code', client_id: '{{client_id}}', redirect_uri: '{{redirect_uri}}', scope: '{{scopes}} {{existing_scopes}}' }
          oauth2.token_request.params = { grant_type: 'authorization_code', redirect_uri: '{{redirect_uri}}' }
        }
        const refresh = f.refresh.value.trim() || f.token.value.trim()
        oauth2.refresh_request = { endpoint: refresh, auth_method: f.auth_method.value, params: { grant_type: 'refresh_token', refresh_token: '{{refresh_token}}' } }
        if (f.userinfo.value.trim()) oauth2.user_info_request = { endpoint: f.userinfo.value.trim(), auth_method: 'bearer_access_token' }
        body.oauth2 = f.extra.value.trim() ? deepMerge(oauth2, JSON.parse(f.extra.value)) : oauth2
      }
    } catch (err) {
      status.replaceChildren(errorBox('The JSON fields must hold valid JSON: ' + err.message))
      return
    }
    try {
      if (existing) {
        delete body.id
        await api('PATCH', '/v1/admin/auth_providers/' + encodeURIComponent(existing.id), body)
      } else await api('POST', '/v1/admin/auth_providers', body)
      f.client_secret.value = ''
      location.hash = '#/providers'
      say(existing ? 'Provider saved.' : 'Provider added.')
    } catch (err) {
      if (err.status !== 401) status.replaceChildren(errorBox(err))
    }
  })
  page(existing ? 'Edit provider ' + existing.id : 'Add a provider', form)
}

// ---- API keys -------------------------------------------------------------------------------
async function keys() {
  const list = await get('/v1/admin/api_keys')
  const status = h('div', {})
  const created = h('div', {})
  const name = h('input', { name: 'name', required: true, maxlength: '100', autocomplete: 'off' })
  const role = select('role', [['runtime', 'runtime (apps: start flows, get tokens)'], ['admin', 'admin (everything, this dashboard)']], 'runtime')
  const days = h('input', { name: 'expires_in_days', type: 'number', min: '1', max: '3650', inputmode: 'numeric' })
  const form = h('form', { class: 'card filters', id: 'key-form' },
    field('Name', name), field('Role', role), field('Expires in (days)', days, 'Empty: never'),
    h('button', { type: 'submit' }, 'Create key'))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    status.replaceChildren()
    const body = { name: name.value.trim(), role: role.value }
    if (days.value) body.expires_in_days = Number(days.value)
    try {
      const k = await api('POST', '/v1/admin/api_keys', body)
      await keys()
      showCreatedKey(k)
    } catch (err) { if (err.status !== 401) status.replaceChildren(errorBox(err)) }
  })
  const rows = list.items.map((k) => [h('code', {}, k.prefix + '…'), k.name, k.role, badge(k.status), when(k.created_at), when(k.expires_at), when(k.last_used_at),
    k.status === 'active' ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!(await confirmDialog('Revoke key ' + k.name + '?', 'Apps using ' + k.prefix + '… stop working at once, on every Latchkey process.', 'Revoke key'))) return
      try { await api('DELETE', '/v1/admin/api_keys/' + encodeURIComponent(k.id)); await keys(); say('Key revoked.') } catch (err) { if (err.status !== 401) status.replaceChildren(errorBox(err)) }
    } }, 'Revoke ' + k.name) : '—'])
  page('API keys', created, status, h('section', { 'aria-labelledby': 'h-new' }, h('h2', { id: 'h-new' }, 'Create a key'), form),
    h('section', { 'aria-labelledby': 'h-keys' }, h('h2', { id: 'h-keys' }, 'Keys'),
      table('API keys', ['Key', 'Name', 'Role', 'Status', 'Created', 'Expires', 'Last used', 'Actions'], rows)))
}
function showCreatedKey(k) {
  const code = h('code', { id: 'new-key' }, k.key)
  const box = h('div', { class: 'secret-once', role: 'alert' },
    h('strong', {}, 'Copy the new key now: it is shown this once and never again.'), code,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => navigator.clipboard && navigator.clipboard.writeText(k.key).then(() => say('Copied.'), () => say('Copy failed: select the key and copy it.')) }, 'Copy'),
      h('button', { type: 'button', class: 'secondary', id: 'dismiss-key', onclick: () => { box.remove(); say('The key is no longer shown.') } }, 'Done')))
  main.insertBefore(box, main.children[1] || null)
}

// ---- audit ----------------------------------------------------------------------------------
async function audit(q) {
  const limit = 50
  const offset = Number(q.get('offset') || 0)
  const names = ['user_id', 'provider_id', 'connection_id', 'action', 'actor', 'since']
  const filter = compact(new URLSearchParams(names.map((n) => [n, q.get(n) || ''])))
  const list = await get('/v1/admin/audit?' + filter + '&limit=' + limit + '&offset=' + offset)
  const sinceValue = q.get('since') ? new Date(q.get('since')).toISOString().slice(0, 16) : ''
  const form = h('form', { class: 'filters card', role: 'search', 'aria-label': 'Filter audit entries' },
    field('User id', h('input', { name: 'user_id', value: q.get('user_id') || '', autocomplete: 'off' })),
    field('Provider', h('input', { name: 'provider_id', value: q.get('provider_id') || '', autocomplete: 'off' })),
    field('Connection id', h('input', { name: 'connection_id', value: q.get('connection_id') || '', autocomplete: 'off' })),
    field('Action', h('input', { name: 'action', value: q.get('action') || '', autocomplete: 'off', list: 'actions' })),
    h('datalist', { id: 'actions' }, ['token.issued', 'connection.created', 'connection.refreshed', 'connection.refresh_failed', 'connection.reauth_required', 'connection.revoked', 'flow.started', 'flow.failed', 'api_key.created', 'api_key.revoked', 'provider.created', 'provider.updated', 'dashboard.signed_in'].map((a) => h('option', { value: a }))),
    field('Actor', h('input', { name: 'actor', value: q.get('actor') || '', autocomplete: 'off' }), 'API key id, or dashboard:<key id>'),
    field('Since (UTC)', h('input', { name: 'since', type: 'datetime-local', value: sinceValue })),
    h('button', { type: 'submit' }, 'Filter'))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const data = compact(new FormData(form))
    if (data.get('since')) data.set('since', data.get('since') + ':00Z')
    location.hash = '#/audit?' + data
  })
  const nextQ = (o) => '#/audit?' + compact(new URLSearchParams([...filter, ['offset', String(o)]]))
  page('Audit', form,
    h('div', { class: 'actions' },
      h('a', { class: 'button secondary', href: '/v1/admin/audit/export?format=csv&' + filter, download: '', id: 'export-csv' }, 'Export CSV'),
      h('a', { class: 'button secondary', href: '/v1/admin/audit/export?format=json&' + filter, download: '', id: 'export-json' }, 'Export JSON')),
    table('Audit entries', ['When', 'Action', 'Actor', 'User', 'Provider', 'Connection', 'Detail'],
      list.items.map((e) => [when(e.at), e.action, e.actor || '—', e.user_id || '—', e.provider_id || '—',
        e.connection_id ? h('a', { href: '#/connections/' + encodeURIComponent(e.connection_id) }, e.connection_id) : '—', detail(e.detail)]),
      'No audit entry matches.'),
    h('div', { class: 'pager' },
      h('span', { class: 'muted' }, list.total_count === 0 ? '' : (offset + 1) + '–' + (offset + list.page_count) + ' of ' + list.total_count),
      offset > 0 ? h('a', { class: 'button secondary', href: nextQ(Math.max(0, offset - limit)) }, 'Previous') : null,
      offset + list.page_count < list.total_count ? h('a', { class: 'button secondary', href: nextQ(offset + limit) }, 'Next') : null))
}

// ---- branding -------------------------------------------------------------------------------
const BRANDING_FIELDS = [
  ['app_name', 'App name', 'text', 'Named on the pages: "<App> wants to connect to your <Provider> account". At most 60 characters.'],
  ['accent_color', 'Accent colour', 'text', 'Buttons and links: #rgb or #rrggbb, e.g. #0a7d4f'],
  ['logo_url', 'Logo URL', 'url', 'An https URL, or a data:image/(png|jpeg|gif|webp);base64 URL'],
  ['support_url', 'Support URL', 'text', 'An https or mailto: URL, linked as "Contact <App> support"'],
]
async function branding(_q, notice) {
  const b = await get('/v1/admin/branding')
  const status = h('div', {})
  const inputs = {}
  for (const [k, , type] of BRANDING_FIELDS) inputs[k] = h('input', { name: k, type, autocomplete: 'off', spellcheck: 'false', value: b.override[k] || '' })
  const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' })
  // A CSSOM property (not a style attribute, which the CSP forbids); the API only returns #rgb or #rrggbb here.
  if (b.accent_color) swatch.style.backgroundColor = b.accent_color
  const form = h('form', { class: 'card grid', id: 'branding-form' },
    BRANDING_FIELDS.map(([k, label, , hint]) => field(label, inputs[k], hint + '. Empty: the configured value (LATCHKEY_BRANDING_*).')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save branding')))
  const save = async (body, message) => {
    status.replaceChildren()
    try { await api('PUT', '/v1/admin/branding', body); await branding(null, message) } catch (err) { if (err.status !== 401) status.replaceChildren(errorBox(err)) }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const body = {}
    for (const [k] of BRANDING_FIELDS) if (inputs[k].value.trim()) body[k] = inputs[k].value.trim()
    save(body, 'Branding saved: the end-user pages show it now.')
  })
  page('Branding', notice ? h('p', { class: 'notice', role: 'status' }, notice) : null, status,
    h('p', {}, 'What people see on Latchkey\'s own pages (Continue, done, errors) when an app sends them to connect an account.'),
    h('section', { 'aria-labelledby': 'h-br-now' }, h('h2', { id: 'h-br-now' }, 'In force'),
      h('dl', { class: 'props card', id: 'branding-now' }, BRANDING_FIELDS.map(([k, label]) => [h('dt', {}, label),
        h('dd', {}, k === 'accent_color' && b[k] ? [swatch, ' '] : null, b[k] ? h('code', {}, k === 'logo_url' && b[k].length > 80 ? b[k].slice(0, 60) + '… (' + b[k].length + ' characters)' : b[k]) : '— (not set)')]))),
    h('section', { 'aria-labelledby': 'h-br-edit' }, h('h2', { id: 'h-br-edit' }, 'Change'), form,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => save({}, 'Branding restored to the configured values.') }, 'Restore the configured branding'))))
}

// ---- webhooks -------------------------------------------------------------------------------
function eventList(text) {
  const list = text.split(/[\s,]+/).filter((x) => x !== '')
  return list.length === 0 ? undefined : list
}
function showSecret(title, secret) {
  const box = h('div', { class: 'secret-once', role: 'alert' },
    h('strong', {}, title + ' Copy it now: it is shown this once and never again.'), h('code', { id: 'new-secret' }, secret),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => navigator.clipboard && navigator.clipboard.writeText(secret).then(() => say('Copied.'), () => say('Copy failed: select the secret and copy it.')) }, 'Copy'),
      h('button', { type: 'button', class: 'secondary', id: 'dismiss-secret', onclick: () => { box.remove(); say('The secret is no longer shown.') } }, 'Done')))
  main.insertBefore(box, main.children[1] || null)
}
async function webhooks() {
  const list = (await get('/v1/admin/webhooks')).items
  const status = h('div', {})
  const url = h('input', { name: 'url', type: 'url', required: true, autocomplete: 'off', spellcheck: 'false' })
  const events = h('input', { name: 'events', autocomplete: 'off', spellcheck: 'false', value: '*' })
  const description = h('input', { name: 'description', maxlength: '500', autocomplete: 'off' })
  const form = h('form', { class: 'card filters', id: 'webhook-form' },
    field('Endpoint URL', url, 'https (http on loopback only where allowed)'),
    field('Events', events, 'Names, <group>.* or *, separated by spaces or commas'),
    field('Description', description),
    h('button', { type: 'submit' }, 'Add endpoint'))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    status.replaceChildren()
    const body = { url: url.value.trim() }
    const ev = eventList(events.value)
    if (ev) body.events = ev
    if (description.value.trim()) body.description = description.value.trim()
    try {
      const w = await api('POST', '/v1/admin/webhooks', body)
      await webhookPage(null, encodeURIComponent(w.id))
      history.replaceState(null, '', '#/webhooks/' + encodeURIComponent(w.id))
      showSecret('The signing secret of this endpoint.', w.secret)
    } catch (err) { if (err.status !== 401) status.replaceChildren(errorBox(err)) }
  })
  page('Webhooks', status,
    h('section', { 'aria-labelledby': 'h-new-wh' }, h('h2', { id: 'h-new-wh' }, 'Add an endpoint'), form),
    h('section', { 'aria-labelledby': 'h-wh' }, h('h2', { id: 'h-wh' }, 'Endpoints'),
      table('Webhook endpoints', ['URL', 'Events', 'Status', 'Failing since', 'Description', 'Details'],
        list.map((w) => [h('code', {}, w.url), (w.events || []).join(', ') || 'all', badge(w.status), when(w.failing_since), w.description || '—',
          h('a', { href: '#/webhooks/' + encodeURIComponent(w.id), 'aria-label': 'Deliveries of ' + w.url }, 'Deliveries')]),
        'No webhook endpoint.')))
}
async function webhookPage(_q, rawId, notice) {
  const id = decodeURIComponent(rawId)
  const enc = encodeURIComponent(id)
  let w
  try { w = await get('/v1/admin/webhooks/' + enc) } catch (err) {
    if (err.status === 404) return page('Webhook not found', h('p', {}, 'No such endpoint. ', h('a', { href: '#/webhooks' }, 'All endpoints')))
    throw err
  }
  const r = await get('/v1/admin/webhooks/' + enc + '/deliveries?limit=50')
  const status = h('div', {})
  const act = async (fn, message) => {
    status.replaceChildren()
    try { const out = await fn(); await webhookPage(null, rawId, message); return out } catch (err) { if (err.status !== 401) status.replaceChildren(errorBox(err)) }
  }
  const config = w.source === 'config'
  const actions = h('div', { class: 'actions' },
    w.status === 'disabled'
      ? h('button', { type: 'button', onclick: () => act(() => api('PATCH', '/v1/admin/webhooks/' + enc, { enabled: true }), 'Endpoint enabled.') }, 'Enable')
      : h('button', { type: 'button', class: 'secondary', onclick: () => act(() => api('PATCH', '/v1/admin/webhooks/' + enc, { enabled: false }), 'Endpoint disabled.') }, 'Disable'),
    w.status === 'failing' ? h('button', { type: 'button', onclick: () => act(() => api('PATCH', '/v1/admin/webhooks/' + enc, { enabled: true }), 'Endpoint re-enabled.') }, 'Re-enable') : null,
    config ? null : h('button', { type: 'button', class: 'secondary', onclick: async () => {
      if (!(await confirmDialog('Rotate the signing secret?', 'A new secret is made; for 24 hours deliveries are signed with both the old and the new one.', 'Rotate secret'))) return
      const out = await act(() => api('POST', '/v1/admin/webhooks/' + enc + '/rotate-secret'), 'Secret rotated.')
      if (out) showSecret('The new signing secret (the previous one works until ' + when(out.previous_secret_expires_at) + ').', out.secret)
    } }, 'Rotate secret'),
    config ? null : h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!(await confirmDialog('Delete this endpoint?', w.url + ' receives no more events, and its delivery history is deleted.', 'Delete endpoint'))) return
      status.replaceChildren()
      try { await api('DELETE', '/v1/admin/webhooks/' + enc); location.hash = '#/webhooks'; say('Endpoint deleted.') } catch (err) { if (err.status !== 401) status.replaceChildren(errorBox(err)) }
    } }, 'Delete'))
  page('Webhook ' + w.url, notice ? h('p', { class: 'notice', role: 'status' }, notice) : null, status,
    h('dl', { class: 'props card' }, h('dt', {}, 'Status'), h('dd', {}, badge(w.status)), h('dt', {}, 'Events'), h('dd', {}, (w.events || []).join(', ') || 'all'),
      h('dt', {}, 'Description'), h('dd', {}, w.description || '—'),
      h('dt', {}, 'Source'), h('dd', {}, config ? 'latchkey.yaml (read-only here)' : 'API'), h('dt', {}, 'Failing since'), h('dd', {}, when(w.failing_since)),
      h('dt', {}, 'Created'), h('dd', {}, when(w.created_at))),
    actions,
    h('section', { 'aria-labelledby': 'h-del' }, h('h2', { id: 'h-del' }, 'Deliveries (' + r.total + ')'),
      h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => webhookPage(null, rawId) }, 'Reload deliveries')),
      table('Deliveries', ['Event', 'Status', 'Attempts', 'Last status', 'Last error', 'Next attempt', 'Delivered', 'Actions'],
        r.items.map((d) => [d.event_type, badge(d.status), String(d.attempts), d.last_status_code === null ? '—' : String(d.last_status_code), d.last_error || '—',
          when(d.next_attempt_at), when(d.delivered_at),
          h('button', { type: 'button', class: 'secondary', 'aria-label': 'Redeliver ' + d.event_type + ' ' + d.id, onclick: () =>
            act(() => api('POST', '/v1/admin/webhooks/' + enc + '/deliveries/' + encodeURIComponent(d.id) + '/redeliver'), 'Redelivery queued.') }, 'Redeliver')]),
        'No delivery yet.')))
}

// ---- start ------------------------------------------------------------------------------------
async function start() {
  shell()
  await route()
}
;(async () => {
  try {
    session = await get('/dashboard/session')
  } catch (err) {
    return showSignIn(err.status === 401 && err.message !== 'not signed in to the dashboard' ? err.message : '')
  }
  await start()
})()
`
