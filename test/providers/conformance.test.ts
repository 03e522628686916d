/**
 * Provider quirks end to end: a live Latchkey, the REAL catalog entry of a provider with the quirk
 * (only its endpoint origins pointed at a local replica, see ./replicas.ts), and a scripted browser.
 * Each replica refuses what the real provider documents it refuses and records every call.
 */

import { Latchkey } from '@latchkey/client'
import { afterEach, describe, expect, it } from 'vitest'
import { catalog } from '../../src/providers/catalog.js'
import type { ConfiguredProvider } from '../../src/providers/configured-provider.js'
import type { ProviderDefinition } from '../../src/providers/define-provider.js'
import { compileProviderEntry } from '../../src/providers/provider-config.js'
import type { ConnectionRow } from '../../src/storage/store.js'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import * as R from './replicas.js'

let h: Harness | undefined
let replica: R.Replica | undefined
afterEach(async () => {
  await h?.close()
  await replica?.close()
  h = undefined
  replica = undefined
})

interface Setup {
  h: Harness
  replica: R.Replica
  client: Latchkey
  provider: ConfiguredProvider
  id: string
}

const examples = (def: ProviderDefinition) => Object.fromEntries(Object.entries(def.settings ?? {}).map(([k, s]) => [k, s.example]))
const compileCtx = { catalog, allowInsecureLoopback: true, source: 'config', where: 'conformance test' } as const

/** Starts Latchkey and the replica, and registers the catalog entry `id` pointed at the replica. */
async function setup(id: string, make: (def: ProviderDefinition) => Promise<R.Replica>): Promise<Setup> {
  const def = catalog[id]!
  const compiled = compileProviderEntry(
    { id, provider_id: id, client_id: R.CLIENT_ID, client_secret: R.CLIENT_SECRET, settings: examples(def) },
    compileCtx,
  )
  return register(id, compiled, await make(compiled.def))
}

async function register(id: string, compiled: ConfiguredProvider, r: R.Replica): Promise<Setup> {
  replica = r
  h = await startHarness()
  const provider = R.pointAt(compiled, r.origin)
  // Every quirk field is kept; only the endpoint origins changed.
  expect({
    ...provider.def,
    authorizationEndpoint: '',
    tokenEndpoint: '',
    refreshEndpoint: '',
    revocationEndpoint: '',
    userInfo: { ...provider.def.userInfo, endpoint: '' },
  }).toEqual({
    ...compiled.def,
    authorizationEndpoint: '',
    tokenEndpoint: '',
    refreshEndpoint: '',
    revocationEndpoint: '',
    userInfo: { ...compiled.def.userInfo, endpoint: '' },
  })
  h.latchkey.ctx.registry.set(provider)
  return { h, replica: r, client: new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 }), provider, id }
}

/** Starts an authorization, clicks through it, and reads the outcome. */
async function connect(s: Setup, scopes: string[], user = 'alice') {
  const started = await s.client.auth.start(user, s.id, { scopes })
  expect(started.status).toBe('pending')
  const page = await new TestBrowser().authorize(started.url!)
  const status = await s.client.auth.status({ id: started.id! })
  const connection = await s.h.latchkey.store.getConnection(user, s.id)
  return { started, page, status, connection }
}

async function connected(s: Setup, scopes: string[]): Promise<{ token: string; connection: ConnectionRow }> {
  const { page, status, connection } = await connect(s, scopes)
  expect(s.replica.violations).toEqual([])
  expect(page.status, page.body).toBe(200)
  expect(status.status).toBe('completed')
  expect(connection).toBeDefined()
  return { token: status.context!.token!, connection: connection! }
}

async function stored(s: Setup, id: string) {
  const c = (await s.h.latchkey.store.getConnectionById(id))!
  const open = (field: 'access_token' | 'refresh_token', v: string) => s.h.latchkey.ctx.vault.open({ table: 'connections', id, field }, v)
  return {
    row: c,
    access: open('access_token', c.access_token_enc),
    refresh: c.refresh_token_enc ? open('refresh_token', c.refresh_token_enc) : undefined,
  }
}

/** Makes the stored access token expired, then asks for a token again: Latchkey must refresh. */
async function refreshThroughLatchkey(s: Setup, connection: ConnectionRow, scopes: string[]): Promise<string> {
  await s.h.latchkey.store.updateConnection(connection.id, { expires_at: Date.now() - 1000 })
  const r = await s.client.auth.start('alice', s.id, { scopes })
  expect(r.status, JSON.stringify(r)).toBe('completed')
  return r.context!.token!
}

async function deleteConnection(s: Setup, id: string): Promise<Response> {
  return fetch(`${s.h.baseURL}/v1/admin/user_connections/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${s.h.apiKey}` } })
}

function expectFailedCleanly(result: Awaited<ReturnType<typeof connect>>, providerError: string): void {
  expect(result.page.status).toBe(502)
  expect(result.page.body).toMatch(/^<!doctype html>/i)
  expect(result.page.body).toContain(providerError)
  expect(result.status.status).toBe('failed')
  expect(result.status.error?.code).toBe('exchange_failed')
  expect(result.status.context).toBeUndefined()
  expect(result.connection).toBeUndefined()
}

/** What the generic replicas put where the entry says: kept token-response fields, the account id, an expiry. */
function expectEntryFieldsRead(def: ProviderDefinition, connection: ConnectionRow): void {
  const simple = (expr: string | undefined) => /^\$(\.[A-Za-z0-9_]+)+$/.test(expr ?? '')
  for (const [k, expr] of Object.entries(def.tokenResponse?.keep ?? {}))
    if (simple(expr)) expect(connection.user_info?.[k], `kept ${k}`).toBe(`${k}-value`)
  if (simple(def.userInfo?.accountId)) expect(connection.account_id).toBe('acct-42')
  expect(connection.expires_at).toBeGreaterThan(Date.now() + 60_000)
}

const first = (ids: string[], ok: (d: ProviderDefinition) => boolean = () => true) => ids.find((id) => catalog[id] && ok(catalog[id]))

describe('(1) GitHub: form answers unless JSON is asked for, errors with HTTP 200, comma scope echo, User-Agent', () => {
  it('completes a flow and reads the comma-separated granted scopes', async () => {
    const s = await setup('github', R.githubReplica)
    const { token, connection } = await connected(s, ['read:user', 'repo'])
    expect(token).toMatch(/^gho_at-/)
    const [call] = s.replica.callsTo('POST', '/login/oauth/access_token')
    expect(call!.headers.accept).toContain('application/json')
    expect(call!.body['code_verifier']).toBeDefined()
    expect(s.replica.callsTo('GET', '/login/oauth/authorize')[0]!.query.get('scope')).toBe('read:user repo')
    expect(connection.scopes).toEqual(['read:user', 'repo'])
    // OAuth-app tokens do not expire and come without a refresh token.
    expect(connection.expires_at).toBeNull()
    expect(connection.refresh_token_enc).toBeNull()
    const [me] = s.replica.callsTo('GET', '/user')
    expect(me!.headers['user-agent']).toBeTruthy()
    expect(me!.headers.authorization).toBe(`Bearer ${token}`)
    expect(connection.account_id).toBe('acct-42')
  })

  it('(replica) answers form-encoded without Accept: application/json, and refuses /user without a User-Agent', async () => {
    const s = await setup('github', R.githubReplica)
    const form = await fetch(`${s.replica.origin}/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: R.CLIENT_ID, client_secret: R.CLIENT_SECRET, code: 'nope' }),
    })
    expect(form.status).toBe(200)
    expect(form.headers.get('content-type')).toContain('application/x-www-form-urlencoded')
    expect(new URLSearchParams(await form.text()).get('error')).toBe('bad_verification_code')
    // Node's fetch always sends a User-Agent; a raw request shows the refusal.
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve, reject) => {
      request(`${s.replica.origin}/user`, { headers: { authorization: 'Bearer x' } }, (res) => resolve(res.statusCode!))
        .on('error', reject)
        .end()
    })
    expect(status).toBe(403)
    s.replica.violations.length = 0
  })

  it('fails cleanly when GitHub answers bad_verification_code with HTTP 200', async () => {
    const s = await setup('github', R.githubReplica)
    const started = await s.client.auth.start('alice', 'github', { scopes: ['read:user'] })
    const browser = new TestBrowser()
    const toCallback = await browser.authorize(started.url!, { stopAt: (u) => u.pathname === '/oauth/callback' })
    const callback = new URL(toCallback.location!)
    callback.searchParams.set('code', 'wrong-code')
    const page = await browser.request(callback.toString())
    const status = await s.client.auth.status({ id: started.id! })
    expectFailedCleanly(
      { started, page, status, connection: await s.h.latchkey.store.getConnection('alice', 'github') },
      'bad_verification_code',
    )
    expect(s.replica.callsTo('POST', '/login/oauth/access_token')).toHaveLength(1)
    expect(s.replica.violations).toEqual([])
  })

  it('(9) revokes with DELETE /applications/{client_id}/grant, Basic auth and a JSON {access_token} body', async () => {
    const s = await setup('github', R.githubReplica)
    const { token, connection } = await connected(s, ['read:user'])
    const r = await deleteConnection(s, connection.id)
    expect(r.status).toBe(204)
    expect(r.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
    const [call] = s.replica.callsTo('DELETE', `/applications/${R.CLIENT_ID}/grant`)
    expect(call!.basic).toEqual({ id: R.CLIENT_ID, secret: R.CLIENT_SECRET })
    expect(call!.contentType).toBe('application/json')
    expect(JSON.parse(call!.raw)).toEqual({ access_token: token })
    expect(s.replica.accessTokens.has(token)).toBe(false)
    expect(s.replica.violations).toEqual([])
  })
})

describe('(2) Slack: user token under authed_user, ok:false with HTTP 200, top-level refresh response', () => {
  it('hands out the user token (not the bot token) and refreshes from a top-level response', async () => {
    const s = await setup('slack', R.slackReplica)
    const { token, connection } = await connected(s, ['search:read', 'users:read'])
    const authorize = s.replica.callsTo('GET', '/oauth/v2/authorize')[0]!.query
    expect(authorize.get('user_scope')).toBe('search:read,users:read')
    expect(authorize.has('scope')).toBe(false)
    expect(authorize.has('code_challenge')).toBe(false)
    expect(token).toMatch(/^xoxe\.xoxp-1-at-/)
    expect(connection.scopes).toEqual(['search:read', 'users:read'])
    expect(connection.expires_at! - Date.now()).toBeGreaterThan(43_000_000)
    expect(connection.account_id).toBe('U0001')
    const before = await stored(s, connection.id)
    expect(before.refresh).toMatch(/^xoxe\.xoxp-1-rt-/)
    expect(JSON.stringify(connection.user_info ?? {})).not.toContain('xoxb')

    const fresh = await refreshThroughLatchkey(s, connection, ['search:read'])
    expect(fresh).not.toBe(token)
    expect(s.replica.accessTokens.has(fresh)).toBe(true)
    const refreshCall = s.replica.callsTo('POST', '/api/oauth.v2.access').find((c) => c.body['grant_type'] === 'refresh_token')!
    expect(refreshCall.body['refresh_token']).toBe(before.refresh)
    const after = await stored(s, connection.id)
    expect(after.access).toBe(fresh)
    expect(after.refresh).not.toBe(before.refresh)
    expect(s.replica.refreshTokens.has(after.refresh!)).toBe(true)
    expect(after.row.expires_at! - Date.now()).toBeGreaterThan(43_000_000)
    expect(s.replica.violations).toEqual([])
  })

  it('treats { ok: false, error: invalid_refresh_token } with HTTP 200 on refresh as a dead grant', async () => {
    const s = await setup('slack', R.slackReplica)
    const { token, connection } = await connected(s, ['users:read'])
    s.replica.refreshTokens.clear()
    await s.h.latchkey.store.updateConnection(connection.id, { expires_at: Date.now() - 1000 })
    const r = await s.client.auth.start('alice', 'slack', { scopes: ['users:read'] })
    expect(r.status).toBe('pending')
    expect(JSON.stringify(r)).not.toContain(token)
    const after = (await s.h.latchkey.store.getConnectionById(connection.id))!
    expect(after.status).toBe('reauth_required')
    expect(after.last_refresh_error).toContain('invalid_refresh_token')
    expect(s.replica.violations).toEqual([])
  })

  it('fails cleanly on { ok: false, error: invalid_code } with HTTP 200', async () => {
    const s = await setup('slack', R.slackReplica)
    const started = await s.client.auth.start('alice', 'slack', { scopes: ['users:read'] })
    const browser = new TestBrowser()
    const toCallback = await browser.authorize(started.url!, { stopAt: (u) => u.pathname === '/oauth/callback' })
    const callback = new URL(toCallback.location!)
    callback.searchParams.set('code', 'wrong-code')
    const page = await browser.request(callback.toString())
    const status = await s.client.auth.status({ id: started.id! })
    expectFailedCleanly({ started, page, status, connection: await s.h.latchkey.store.getConnection('alice', 'slack') }, 'invalid_code')
    expect(s.replica.violations).toEqual([])
  })

  it('(9) revokes with auth.revoke, the user token as bearer', async () => {
    const s = await setup('slack', R.slackReplica)
    const { token, connection } = await connected(s, ['users:read'])
    const r = await deleteConnection(s, connection.id)
    expect(r.status).toBe(204)
    expect(r.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
    const [call] = s.replica.callsTo('POST', '/api/auth.revoke')
    expect(call!.bearer).toBe(token)
    expect(s.replica.accessTokens.has(token)).toBe(false)
    expect(s.replica.violations).toEqual([])
  })
})

const commaId = first(
  ['linear', 'strava', 'todoist'],
  (d) => d.scopeDelimiter === ',' && d.tokenEndpointAuthMethod === 'client_secret_post',
)
describe.skipIf(!commaId)(`(3) comma-separated scopes and client_secret_post (${commaId})`, () => {
  it('sends comma-separated scopes, credentials in the body, and reads a comma scope echo', async () => {
    const s = await setup(commaId!, R.commaScopeReplica)
    const scopes = ['read', 'write']
    const { connection } = await connected(s, scopes)
    const authorize = s.replica.calls.find((c) => c.method === 'GET')!.query
    expect(authorize.get('scope')).toBe('read,write')
    const [tokenCall] = s.replica.calls.filter((c) => c.method === 'POST' && c.body['grant_type'] === 'authorization_code')
    expect(tokenCall!.body['client_secret']).toBe(R.CLIENT_SECRET)
    expect(tokenCall!.headers.authorization).toBeUndefined()
    expect(connection.scopes).toEqual(scopes)
    expect(connection.expires_at! - Date.now()).toBeGreaterThan(3_500_000)
    expectEntryFieldsRead(s.provider.def, connection)
  })
})

const basicIds = ['notion', 'zoom', 'reddit', 'quickbooks'].filter((id) => catalog[id]?.tokenEndpointAuthMethod === 'client_secret_basic')
describe('(4) token endpoint that requires HTTP Basic and refuses credentials in the body', () => {
  it.each(basicIds)('%s: Basic on the code exchange, on refresh and on revocation', async (id) => {
    const def = catalog[id]!
    const s = await setup(id, R.basicAuthOnlyReplica)
    const scopes = [...(def.defaultScopes ?? ['read'])]
    const { connection } = await connected(s, scopes)
    const tokenPath = new URL(s.provider.def.tokenEndpoint).pathname
    const [exchange] = s.replica.callsTo('POST', tokenPath)
    expect(exchange!.basic).toEqual({ id: R.CLIENT_ID, secret: R.CLIENT_SECRET })
    expect(exchange!.body['client_secret']).toBeUndefined()
    for (const k of Object.keys(def.tokenRequestHeaders ?? {})) expect(exchange!.headers[k.toLowerCase()], k).toBeDefined()
    expectEntryFieldsRead(s.provider.def, connection)
    if (def.refreshTokens !== 'none') {
      await refreshThroughLatchkey(s, connection, scopes)
      const refresh = s.replica.calls.filter((c) => c.body['grant_type'] === 'refresh_token')
      expect(refresh).toHaveLength(1)
      expect(refresh[0]!.basic?.id).toBe(R.CLIENT_ID)
    }
    if (s.provider.def.revocationEndpoint) {
      const tokens = await stored(s, connection.id)
      const r = await deleteConnection(s, connection.id)
      expect(r.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
      const [revoke] = s.replica.callsTo(def.revocation?.method ?? 'POST', new URL(s.provider.def.revocationEndpoint).pathname)
      const expected = (def.revocation?.prefer ?? 'refresh_token') === 'refresh_token' && tokens.refresh ? tokens.refresh : tokens.access
      expect(revoke!.body[def.revocation?.tokenParam ?? 'token']).toBe(expected)
      expect(revoke!.basic?.id).toBe(R.CLIENT_ID)
    }
    expect(s.replica.violations).toEqual([])
  })
})

describe('(5) JSON-only token endpoint (415 for a form body)', () => {
  const jsonIds = Object.values(catalog)
    .filter((d) => d.tokenRequestContentType === 'json')
    .map((d) => d.id)
  it.each(jsonIds.length > 0 ? jsonIds : ['(none in the catalog)'])('catalog provider %s', async (id) => {
    if (!catalog[id]) return
    const s = await setup(id, R.jsonOnlyReplica)
    const { connection } = await connected(s, [...(catalog[id]!.defaultScopes ?? ['read'])])
    expectEntryFieldsRead(s.provider.def, connection)
    const tokenPath = new URL(s.provider.def.tokenEndpoint).pathname
    for (const c of s.replica.callsTo('POST', tokenPath)) expect(c.contentType).toBe('application/json')
    expect(s.replica.violations).toEqual([])
  })

  it('Arcade-style custom provider with request_content_type: application/json (code exchange and refresh)', async () => {
    const placeholder = 'https://json-only.example.com'
    const compiled = compileProviderEntry(
      {
        id: 'json-only',
        type: 'oauth2',
        description: 'JSON-only token endpoint',
        client_id: R.CLIENT_ID,
        client_secret: R.CLIENT_SECRET,
        oauth2: {
          scope_delimiter: ' ',
          pkce: { enabled: true, code_challenge_method: 'S256' },
          authorize_request: {
            endpoint: `${placeholder}/oauth/authorize`,
            params: {
              response_type: 'code',
              client_id: '{{client_id}}',
              redirect_uri: '{{redirect_uri}}',
              scope: '{{scopes}} {{existing_scopes}}',
            },
          },
          token_request: {
            endpoint: `${placeholder}/oauth/token`,
            auth_method: 'client_secret_post',
            request_content_type: 'application/json',
            response_content_type: 'application/json',
            params: { grant_type: 'authorization_code', redirect_uri: '{{redirect_uri}}' },
          },
          refresh_request: {
            endpoint: `${placeholder}/oauth/token`,
            auth_method: 'client_secret_post',
            request_content_type: 'application/json',
            params: { grant_type: 'refresh_token', refresh_token: '{{refresh_token}}' },
          },
        },
      },
      compileCtx,
    )
    const s = await register('json-only', compiled, await R.jsonOnlyReplica(compiled.def))
    const { connection } = await connected(s, ['read'])
    await refreshThroughLatchkey(s, connection, ['read'])
    const calls = s.replica.callsTo('POST', '/oauth/token')
    expect(calls.map((c) => c.body['grant_type'])).toEqual(['authorization_code', 'refresh_token'])
    for (const c of calls) {
      expect(c.contentType).toBe('application/json')
      expect(c.body['client_id']).toBe(R.CLIENT_ID)
    }
    expect(s.replica.violations).toEqual([])
  })

  it('(replica) refuses a form body with 415', async () => {
    const compiled = compileProviderEntry(
      { id: 'github', provider_id: 'github', client_id: R.CLIENT_ID, client_secret: R.CLIENT_SECRET },
      compileCtx,
    )
    replica = await R.jsonOnlyReplica(compiled.def)
    const r = await fetch(`${replica.origin}/login/oauth/access_token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }),
    })
    expect(r.status).toBe(415)
    expect(replica.violations).toHaveLength(1)
  })
})

describe.skipIf(!catalog['salesforce'])('(6) no expires_in (Salesforce): the assumed lifetime is stored', () => {
  it('stores expires_at from assumedAccessTokenLifetimeSeconds on the grant and on refresh, and keeps instance_url', async () => {
    const s = await setup('salesforce', R.noExpiryReplica)
    const lifetime = catalog['salesforce']!.assumedAccessTokenLifetimeSeconds!
    expect(lifetime).toBeGreaterThan(0)
    const t0 = Date.now()
    const { connection } = await connected(s, ['openid', 'refresh_token'])
    const [exchange] = s.replica.calls.filter((c) => c.body['grant_type'] === 'authorization_code')
    expect(exchange).toBeDefined()
    expect(connection.expires_at).toBeGreaterThanOrEqual(t0 + lifetime * 1000)
    expect(connection.expires_at).toBeLessThanOrEqual(Date.now() + lifetime * 1000)
    expect(connection.user_info?.['instance_url']).toBe('https://acme.my.salesforce.com')
    const before = await stored(s, connection.id)
    const t1 = Date.now()
    await refreshThroughLatchkey(s, connection, ['openid'])
    const after = await stored(s, connection.id)
    expect(after.row.expires_at).toBeGreaterThanOrEqual(t1 + lifetime * 1000)
    expect(after.row.expires_at).toBeLessThanOrEqual(Date.now() + lifetime * 1000)
    expect(after.refresh).toBe(before.refresh)
    expect(after.row.user_info?.['instance_url']).toBe('https://acme.my.salesforce.com')
    expect(s.replica.violations).toEqual([])
  })
})

const rotatingIds = ['xero', 'quickbooks', 'gitlab'].filter((id) => catalog[id])
describe('(7) rotating refresh tokens: each refresh returns a new one and invalidates the old', () => {
  it.each(rotatingIds)('%s: two successive refreshes through Latchkey use the newest refresh token', async (id) => {
    const def = catalog[id]!
    expect(def.refreshTokens).toBe('rotating')
    const s = await setup(id, R.rotatingRefreshReplica)
    const scopes = [...(def.defaultScopes ?? ['read'])]
    const { token, connection } = await connected(s, scopes)
    for (const k of def.keepCallbackParams ?? []) expect(connection.user_info?.[k]).toBe(`${k}-value`)
    expectEntryFieldsRead(s.provider.def, connection)
    const rt1 = (await stored(s, connection.id)).refresh!
    expect(rt1).toBeDefined()

    const t2 = await refreshThroughLatchkey(s, connection, scopes)
    const rt2 = (await stored(s, connection.id)).refresh!
    const t3 = await refreshThroughLatchkey(s, connection, scopes)
    const rt3 = (await stored(s, connection.id)).refresh!
    expect(new Set([token, t2, t3]).size).toBe(3)
    expect(new Set([rt1, rt2, rt3]).size).toBe(3)
    const refreshes = s.replica.calls.filter((c) => c.body['grant_type'] === 'refresh_token')
    expect(refreshes.map((c) => c.body['refresh_token'])).toEqual([rt1, rt2])
    // The replica really rotates: the first refresh token is dead, the newest is live.
    expect(s.replica.refreshTokens.has(rt1)).toBe(false)
    expect(s.replica.refreshTokens.has(rt2)).toBe(false)
    expect(s.replica.refreshTokens.has(rt3)).toBe(true)
    const auth = def.tokenEndpointAuthMethod === 'client_secret_basic'
    for (const c of refreshes) expect(auth ? c.basic?.id : c.body['client_id']).toBe(R.CLIENT_ID)
    expect(s.replica.violations).toEqual([])
  })
})

describe.skipIf(!catalog['google'])('(8) static refresh tokens (Google): the refresh response has none, the old one is kept', () => {
  it('asks for offline access, keeps the original refresh token through refreshes, and revokes it (RFC 7009)', async () => {
    const s = await setup('google', R.staticRefreshReplica)
    const { token, connection } = await connected(s, ['openid', 'email'])
    const authorize = s.replica.calls.find((c) => c.method === 'GET')!.query
    expect(authorize.get('access_type')).toBe('offline')
    expect(authorize.get('prompt')).toBe('consent')
    expect(authorize.get('include_granted_scopes')).toBe('true')
    const rt = (await stored(s, connection.id)).refresh
    expect(rt).toBeDefined()
    const t2 = await refreshThroughLatchkey(s, connection, ['openid'])
    const t3 = await refreshThroughLatchkey(s, connection, ['openid'])
    expect(new Set([token, t2, t3]).size).toBe(3)
    const refreshes = s.replica.calls.filter((c) => c.body['grant_type'] === 'refresh_token')
    expect(refreshes.map((c) => c.body['refresh_token'])).toEqual([rt, rt])
    const after = await stored(s, connection.id)
    expect(after.refresh).toBe(rt)
    expect(after.access).toBe(t3)

    const r = await deleteConnection(s, connection.id)
    expect(r.status).toBe(204)
    expect(r.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
    const [revoke] = s.replica.callsTo('POST', '/revoke')
    expect(revoke!.body['token']).toBe(rt)
    expect(s.replica.refreshTokens.has(rt!)).toBe(false)
    expect(s.replica.violations).toEqual([])
  })
})

describe('every catalog provider: code exchange, refresh and revocation as its entry declares them', () => {
  it.each(Object.keys(catalog))('%s', async (id) => {
    const def = catalog[id]!
    const s = await setup(id, R.entryShapedReplica)
    const scopes = def.defaultScopes && def.defaultScopes.length > 0 ? [...def.defaultScopes] : ['a', 'b']
    const { token, connection } = await connected(s, scopes)
    expect(s.replica.accessTokens.has(token)).toBe(true)
    expect(connection.scopes).toEqual(scopes)
    expectEntryFieldsRead(def, connection)
    for (const k of def.keepCallbackParams ?? []) expect(connection.user_info?.[k]).toBe(`${k}-value`)
    if (def.refreshTokens !== 'none') {
      const before = await stored(s, connection.id)
      expect(before.refresh).toBeDefined()
      const fresh = await refreshThroughLatchkey(s, connection, scopes)
      expect(fresh).not.toBe(token)
      expect(s.replica.accessTokens.has(fresh)).toBe(true)
      const after = await stored(s, connection.id)
      expect(s.replica.refreshTokens.has(after.refresh!)).toBe(true)
    }
    if (def.revocationEndpoint) {
      const tokens = await stored(s, connection.id)
      const r = await deleteConnection(s, connection.id)
      expect(r.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
      const revoked = (def.revocation?.prefer ?? 'refresh_token') === 'refresh_token' && tokens.refresh ? tokens.refresh : tokens.access
      expect(s.replica.accessTokens.has(tokens.access)).toBe(false)
      expect(s.replica.refreshTokens.has(revoked)).toBe(false)
    }
    expect(s.replica.violations).toEqual([])
  })
})
