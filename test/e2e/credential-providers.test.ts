/**
 * API-key and Basic providers declared like any provider: as `auth.providers` entries (what
 * latchkey.yaml holds) and through the admin provider API, listed in `GET /v1/providers`'s
 * catalog, announced by webhooks (a credential entered, a credential marked invalid), and used by
 * the proxy, which adds the credential on the way to a fake service on 127.0.0.1 and never shows
 * it to the caller.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { listenOnFreePort } from '../helpers/ports.js'
import { type Receiver, startReceiver } from '../helpers/webhook-receiver.js'

const KEY = 'sk-yaml-good-0123456789'
const SID = 'AC00112233445566778899aabbccddeeff'
const TOKEN = 'basic-auth-token-7'
const BASIC = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`
let service: Server
let base: string
/** What the fake API received on /echo (the proxy's forwarded requests). */
const echoed: IncomingHttpHeaders[] = []
let h: Harness
let client: Latchkey
let receiver: Receiver

/** Every response header as text, for leak checks. */
function headersText(res: Response): string {
  const all: string[] = []
  res.headers.forEach((v, k) => {
    all.push(`${k}: ${v}`)
  })
  return all.join('\n')
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${h.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${h.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined }
}

/** Opens the link in a fresh browser, enters the credential on Latchkey's page. */
async function enter(url: string, form: { secret: string; username?: string }) {
  const browser = new TestBrowser()
  const page = await browser.openLink(url)
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!
  const id = new URL(url).pathname.split('/').pop()!
  return browser.request(new URL(`/oauth/credential/${id}`, h.baseURL).toString(), { form: { ...form, csrf } })
}

async function connect(user: string, provider: string, form: { secret: string; username?: string }) {
  const started = await client.auth.start(user, provider)
  expect(started.status).toBe('pending')
  expect((await enter(started.url!, form)).body).toContain('Connected')
  return client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
}

beforeAll(async () => {
  service = createServer((req, res) => {
    if (req.url?.startsWith('/echo/')) {
      echoed.push(req.headers)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ path: req.url }))
      return
    }
    const ok =
      (req.url === '/v1/models' && req.headers['x-api-key'] === KEY) ||
      (req.url === `/2010-04-01/Accounts/${SID}.json` && req.headers.authorization === BASIC)
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
    // The account resource says who the credential is (as Twilio's does).
    const account = { sid: SID, friendly_name: 'Ned’s shop', status: 'active' }
    res.end(ok ? JSON.stringify(req.url === '/v1/models' ? { data: [] } : account) : '{"error":"invalid credentials"}')
  })
  base = `http://127.0.0.1:${await listenOnFreePort(service)}`
  receiver = await startReceiver()
  h = await startHarness({
    env: { LATCHKEY_WEBHOOK_RETRY_BASE_MS: '50' },
    providerEntries: (idp) => [
      idp.entry(),
      // What latchkey.yaml's auth.providers may hold: a custom API-key service, a Basic one, a catalog service.
      {
        id: 'yaml-ai',
        type: 'api_key',
        header: 'x-api-key',
        format: '{{secret}}',
        headers: { 'x-api-version': '2024-01' },
        validation_url: `${base}/v1/models`,
      },
      {
        id: 'yaml-basic',
        type: 'basic',
        validation_url: `${base}/2010-04-01/Accounts/{{username}}.json`,
        validation_identity: { id: 'sid', label: 'friendly_name' },
      },
      { id: 'openai-work', service: 'openai', description: 'OpenAI (work)' },
    ],
  })
  client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
})
afterAll(async () => {
  await h?.close()
  await receiver?.close()
  await new Promise((resolve) => service?.close(resolve))
})

describe('credential providers as provider entries', () => {
  it('latchkey.yaml entries (type: api_key|basic, service:) are providers like any other', async () => {
    const listed = await client.providers.list()
    expect(listed.configured).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'yaml-ai', type: 'api_key', source: 'config', api_base_urls: [base] }),
        expect.objectContaining({ id: 'yaml-basic', type: 'basic', source: 'config' }),
        expect.objectContaining({
          id: 'openai-work',
          type: 'openai',
          description: 'OpenAI (work)',
          api_base_urls: ['https://api.openai.com'],
        }),
      ]),
    )
    const view = await admin('GET', '/v1/admin/auth_providers/yaml-ai')
    expect(view.status).toBe(200)
    expect(view.body).toMatchObject({
      id: 'yaml-ai',
      type: 'api_key',
      source: 'config',
      credential: { kind: 'api_key', api_origin: base, header: 'x-api-key', validation_url: `${base}/v1/models` },
    })
    expect((await admin('GET', '/v1/admin/auth_providers/openai-work')).body).toMatchObject({
      provider_id: 'openai',
      credential: { kind: 'api_key', service: 'openai' },
    })
    // latchkey.yaml's entries are not the admin API's to change.
    expect((await admin('PATCH', '/v1/admin/auth_providers/yaml-ai', { description: 'x' })).status).toBe(400)
  })

  it('the catalog lists the credential services with their kind, labels and API origin', async () => {
    const { items } = await client.providers.list()
    const twilio = items.find((i) => i.id === 'twilio')
    expect(twilio).toMatchObject({
      kind: 'basic',
      configured: false,
      api_base_urls: ['https://api.twilio.com'],
      credential: { labels: { username: 'Account SID', secret: 'Auth Token' }, api_origin: 'https://api.twilio.com' },
    })
    expect(items.find((i) => i.id === 'openai')).toMatchObject({ kind: 'api_key', configured: true, configured_ids: ['openai-work'] })
    // OAuth entries keep their shape, with kind oauth2 and no credential block.
    const google = items.find((i) => i.id === 'google')!
    expect(google.kind).toBe('oauth2')
    expect(google).not.toHaveProperty('credential')
  })

  it('the admin API creates, changes and removes a credential provider, with the same validation', async () => {
    const bad = [
      { id: 'bad-1', type: 'api_key', format: 'Bearer', api_origin: 'https://a.example' },
      { id: 'bad-2', service: 'no-such-service' },
      { id: 'bad-3', type: 'api_key', api_origin: 'https://a.example', client_secret: 'not-here' },
      { id: 'bad-4', type: 'api_key', validation_url: 'http://public.example/v1' },
      { id: 'bad-5', type: 'api_key', kind: 'basic', api_origin: 'https://a.example' },
    ]
    for (const body of bad) {
      const r = await admin('POST', '/v1/admin/auth_providers', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.name).toBe('BAD_REQUEST')
      expect(await client.providers.list().then((l) => l.configured.some((p) => p.id === body.id))).toBe(false)
    }
    const created = await admin('POST', '/v1/admin/auth_providers', {
      id: 'admin-ai',
      type: 'api_key',
      header: 'x-api-key',
      format: '{{secret}}',
      validation_url: `${base}/v1/models`,
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      id: 'admin-ai',
      type: 'api_key',
      source: 'admin',
      credential: { kind: 'api_key', header: 'x-api-key' },
    })
    const dup = await admin('POST', '/v1/admin/auth_providers', { id: 'admin-ai', type: 'basic', api_origin: base })
    expect(dup.body.name).toBe('CONFLICT')
    // It works: the person enters a key, the service validates it, authorize hands it out.
    const done = await connect('uma', 'admin-ai', { secret: KEY })
    expect(done.context?.token).toBe(KEY)
    const patched = await admin('PATCH', '/v1/admin/auth_providers/admin-ai', { description: 'Admin AI' })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ description: 'Admin AI', type: 'api_key' })
    expect((await admin('PATCH', '/v1/admin/auth_providers/admin-ai', { format: 'no secret' })).status).toBe(400)
    const stored = await h.latchkey.store.getProvider('admin-ai')
    expect(stored?.client_secret_enc).toBeNull()
    expect((await admin('DELETE', '/v1/admin/auth_providers/admin-ai')).status).toBe(200)
    expect((await client.providers.list()).configured.some((p) => p.id === 'admin-ai')).toBe(false)
  })
})

describe('credential providers and webhooks', () => {
  it('a credential entered announces authorization.completed and connection.created; mark_invalid, connection.reauth_required', async () => {
    const hook = await admin('POST', '/v1/admin/webhooks', { url: receiver.url })
    expect(hook.status).toBe(201)
    const done = await connect('ivy', 'yaml-ai', { secret: KEY })
    const connectionId = done.account!.connection_id
    const of = (type: string) => receiver.received.filter((r) => r.event.type === type && r.event.data['user_id'] === 'ivy')
    await receiver.until(() => of('authorization.completed').length > 0 && of('connection.created').length > 0)
    expect(of('connection.created')[0]!.event.data).toMatchObject({ provider_id: 'yaml-ai', connection_id: connectionId })
    await client.auth.markInvalid({ user_id: 'ivy', connection_id: connectionId })
    await receiver.until(() => of('connection.reauth_required').length > 0)
    expect(of('connection.reauth_required')[0]!.event.data).toMatchObject({
      connection_id: connectionId,
      provider_id: 'yaml-ai',
      status: 'reauth_required',
      reason: 'marked_invalid',
    })
    // Once: marking it again changes nothing and announces nothing.
    await client.auth.markInvalid({ user_id: 'ivy', connection_id: connectionId })
    expect((await h.latchkey.store.getConnectionById(connectionId))?.status).toBe('reauth_required')
    for (const r of receiver.received) expect(r.body).not.toContain(KEY)
    expect(of('connection.reauth_required')).toHaveLength(1)
    expect((await admin('DELETE', `/v1/admin/webhooks/${hook.body.id}`)).status).toBeLessThan(300)
  })
})

describe('the proxy with credential providers', () => {
  const proxy = (provider: string, user: string) =>
    fetch(`${h.baseURL}/v1/proxy/${provider}/echo/things?x=1`, { headers: { authorization: h.apiKey, 'latchkey-user-id': user } })

  it('adds the API key in the provider’s header (plus its fixed headers); the caller never sees it', async () => {
    await connect('pam', 'yaml-ai', { secret: KEY })
    echoed.length = 0
    const res = await proxy('yaml-ai', 'pam')
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(JSON.parse(text)).toEqual({ path: '/echo/things?x=1' })
    expect(echoed).toHaveLength(1)
    expect(echoed[0]!['x-api-key']).toBe(KEY)
    expect(echoed[0]!['x-api-version']).toBe('2024-01')
    // The app's Latchkey key goes nowhere near the service.
    expect(JSON.stringify(echoed[0])).not.toContain(h.apiKey)
    expect(text).not.toContain(KEY)
    expect(headersText(res)).not.toContain(KEY)
    expect(h.logs.join('\n')).not.toContain(KEY)
  })

  it('adds Basic credentials as Authorization: Basic base64(username:password); the caller never sees them', async () => {
    const done = await connect('ned', 'yaml-basic', { username: SID, secret: TOKEN })
    // The account as the validation response names it.
    expect(done.account).toMatchObject({ id: SID, label: 'Ned’s shop' })
    echoed.length = 0
    const res = await proxy('yaml-basic', 'ned')
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(echoed).toHaveLength(1)
    expect(echoed[0]!.authorization).toBe(BASIC)
    expect(text).not.toContain(TOKEN)
    expect(headersText(res)).not.toContain(TOKEN)
    expect(headersText(res)).not.toContain(BASIC.slice(6))
    expect(h.logs.join('\n')).not.toContain(TOKEN)
  })

  it('a connection marked invalid is not used by the proxy any more', async () => {
    const done = await connect('oli', 'yaml-ai', { secret: KEY })
    await client.auth.markInvalid({ user_id: 'oli', connection_id: done.account!.connection_id })
    echoed.length = 0
    const res = await proxy('yaml-ai', 'oli')
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(echoed).toHaveLength(0)
  })
})
