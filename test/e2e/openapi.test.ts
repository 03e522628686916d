/**
 * The published OpenAPI document (`GET /v1/openapi.json`): it is a valid OpenAPI 3.1 document
 * (checked by a real OpenAPI validator), it lists exactly the routes Fastify serves (minus the
 * listed non-API routes), and real answers of a running server match the schemas it documents.
 */

import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

/** Every route Fastify registers, seen by an onRoute hook on each app the server builds. */
const registered = vi.hoisted(() => [] as Array<{ method: string; url: string }>)
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>()
  const create = actual.default as unknown as (...args: unknown[]) => import('fastify').FastifyInstance
  const factory = ((...args: unknown[]) => {
    const app = create(...args)
    app.addHook('onRoute', (route) => {
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) registered.push({ method, url: route.url })
    })
    return app
  }) as unknown as typeof actual.default
  return { ...actual, default: factory }
})

/** Routes that are deliberately not part of the API, by URL (any method), and why. */
const NOT_IN_API: Record<string, string> = {
  '/oauth/authorize/:id': 'the authorization link: an HTML page for a person in a browser (GET) and its Continue button (POST)',
  '/oauth/callback': "the OAuth redirect target providers send the user's browser to; answers with HTML pages and redirects",
  '/oauth/confirm/:id': 'custom verification: the next_uri of confirm_user, an HTML page for the browser that consented',
  '/oauth/credential/:id': "the credential page's form POST (API-key and Basic providers): HTML for the person in the bound browser",
  '/metrics': 'Prometheus text exposition for a scraper, not JSON',
  '/demo-idp': 'the demo OAuth server of --dev mode (oidc-provider), a stand-in for a real provider',
  '/demo-idp/*': 'the demo OAuth server of --dev mode (oidc-provider), a stand-in for a real provider',
  '/dashboard': 'the admin dashboard: an HTML page for an operator in a browser',
  '/dashboard/': 'the admin dashboard: an HTML page for an operator in a browser',
  '/dashboard/assets/app.js': "the admin dashboard's script",
  '/dashboard/assets/app.css': "the admin dashboard's style sheet",
}

type Doc = {
  openapi: string
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>
  components: { schemas: Record<string, unknown> }
}

let h: Harness
let doc: Doc
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true })
addFormats.default(ajv)
const COMPONENTS = 'https://latchkey.invalid/components'
/** The document's `#/components/schemas/X` refs, pointed at the components loaded into ajv. */
const rebase = <T>(schema: T): T => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${COMPONENTS}#/$defs/`)) as T

const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}')

beforeAll(async () => {
  // Dev mode, so the demo IdP's routes are registered and their exclusion is checked too.
  h = await startHarness({ config: { dev: true } })
  const r = await fetch(`${h.baseURL}/v1/openapi.json`)
  expect(r.status).toBe(200)
  expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8')
  doc = (await r.json()) as Doc
  ajv.addSchema({ $id: COMPONENTS, $defs: rebase(doc.components.schemas) })
})
afterAll(async () => h?.close())

describe('the OpenAPI document', () => {
  it('is served without an API key and is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()
    const result = await validator.validate(structuredClone(doc) as Record<string, unknown>)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('is rejected by the same validator when broken (the check is real)', async () => {
    const broken = structuredClone(doc)
    delete (broken.paths['/v1/auth/authorize']!['post']!.responses['200'] as Record<string, unknown>)['description']
    const result = await new Validator().validate(broken as Record<string, unknown>)
    expect(result.valid).toBe(false)
  })

  it('has only schemas that compile as JSON Schema 2020-12 (strict ajv)', () => {
    const schemas: unknown[] = []
    const collect = (node: unknown, key?: string): void => {
      if (node === null || typeof node !== 'object') return
      if (key === 'schema') schemas.push(node)
      else for (const [k, v] of Object.entries(node)) collect(v, k)
    }
    collect(doc.paths)
    expect(schemas.length).toBeGreaterThan(50)
    for (const s of schemas) expect(() => ajv.compile(rebase(s) as object)).not.toThrow()
  })

  it('lists every route Fastify serves, and no route it does not serve', () => {
    const urls = new Set(registered.map((r) => r.url))
    // The exclusions name real routes (a stale entry would hide nothing and mislead).
    for (const url of Object.keys(NOT_IN_API)) expect(urls, url).toContain(url)
    const gets = new Set(registered.filter((r) => r.method === 'GET').map((r) => r.url))
    const served = registered
      .filter((r) => !(r.url in NOT_IN_API))
      // Fastify adds a HEAD route for every GET (exposeHeadRoutes); HEAD is GET without a body.
      .filter((r) => !(r.method === 'HEAD' && gets.has(r.url)))
      .map((r) => `${r.method} ${toOpenApiPath(r.url)}`)
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    expect([...new Set(served)].sort()).toEqual(documented.sort())
  })
})

describe('real answers match the documented schemas', () => {
  const key = () => ({ authorization: h.apiKey })

  /** Sends a request and checks its answer against the document's schema for its status. */
  async function call(
    method: string,
    path: string,
    init: { id?: string; query?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...key(), ...init.headers }
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const url = `${h.baseURL}${path.replace('{id}', encodeURIComponent(init.id ?? ''))}${init.query ?? ''}`
    const r = await fetch(url, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) })
    const text = await r.text()
    const documented = doc.paths[path]?.[method.toLowerCase()]?.responses[String(r.status)]
    expect(documented, `${method} ${path} → ${r.status} is documented (${text})`).toBeDefined()
    const schema = documented!.content?.['application/json']?.schema
    if (schema === undefined) {
      expect(text).toBe('')
      return { status: r.status, body: undefined as unknown as Record<string, unknown>, headers: r.headers }
    }
    expect(r.headers.get('content-type')).toMatch(/^application\/json/)
    const body = JSON.parse(text) as Record<string, unknown>
    const validate = ajv.compile(rebase(schema) as object)
    expect(validate(body) ? [] : validate.errors, `${method} ${path} → ${r.status}: ${text}`).toEqual([])
    return { status: r.status, body, headers: r.headers }
  }

  it('authorize (pending, then completed from the store and from memory), status, connections', async () => {
    const request = { user_id: 'carol@example.com', auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } } }
    const pending = await call('POST', '/v1/auth/authorize', { body: request })
    expect(pending.status).toBe(200)
    expect(pending.body['status']).toBe('pending')

    const stillPending = await call('GET', '/v1/auth/status', { query: `?id=${pending.body['id'] as string}` })
    expect(stillPending.body['status']).toBe('pending')

    const page = await new TestBrowser().authorize(pending.body['url'] as string, { login: 'carol' })
    expect(page.status).toBe(200)
    const done = await call('GET', '/v1/auth/status', { query: `?id=${pending.body['id'] as string}&wait=10` })
    expect(done.body['status']).toBe('completed')

    // The first may read the store; the second is the hot path's prepared string.
    const prepared = vi.spyOn(h.latchkey.ctx.connectionCache, 'answer')
    try {
      for (let i = 0; i < 2; i++) {
        const completed = await call('POST', '/v1/auth/authorize', { body: request })
        expect(completed.body['status']).toBe('completed')
      }
      expect(prepared).toHaveBeenCalled()
    } finally {
      prepared.mockRestore()
    }

    const list = await call('GET', '/v1/admin/user_connections', { query: '?user_id=carol%40example.com' })
    expect(list.body['total_count']).toBe(1)
    const id = (list.body['items'] as Array<{ id: string }>)[0]!.id
    await call('GET', '/v1/admin/user_connections/{id}', { id })
    const deleted = await call('DELETE', '/v1/admin/user_connections/{id}', { id })
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get('x-latchkey-provider-revocation')).toMatch(/^(revoked|not_supported|failed|skipped)$/)
  })

  it('admin lists, the provider catalog and health', async () => {
    await call('GET', '/v1/health', { headers: {} })
    await call('GET', '/v1/providers')
    const providers = await call('GET', '/v1/admin/auth_providers')
    expect((providers.body['items'] as unknown[]).length).toBeGreaterThan(0)
    const created = await call('POST', '/v1/admin/api_keys', { body: { name: 'openapi test', role: 'runtime' } })
    expect(created.status).toBe(201)
    const keys = await call('GET', '/v1/admin/api_keys')
    expect(keys.body['total_count']).toBeGreaterThanOrEqual(2)
    await call('DELETE', '/v1/admin/api_keys/{id}', { id: created.body['id'] as string })
    const audit = await call('GET', '/v1/admin/audit', { query: '?limit=50' })
    expect((audit.body['items'] as unknown[]).length).toBeGreaterThan(0)
  })

  it('errors: unknown id, missing key, bad body, wrong role — each with a documented code', async () => {
    const unknown = await call('GET', '/v1/auth/status', { query: '?id=ac_doesnotexist' })
    expect(unknown.status).toBe(404)
    expect(unknown.body['name']).toBe('FLOW_NOT_FOUND')
    const noKey = await call('POST', '/v1/auth/authorize', { headers: { authorization: '' }, body: {} })
    expect(noKey.status).toBe(401)
    const bad = await call('POST', '/v1/auth/authorize', { body: { user_id: 'x' } })
    expect(bad.status).toBe(400)
    expect(bad.body['name']).toBe('BAD_REQUEST')
    const created = await call('POST', '/v1/admin/api_keys', { body: { name: 'runtime only', role: 'runtime' } })
    const forbidden = await call('GET', '/v1/admin/audit', { headers: { authorization: created.body['key'] as string } })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body['name']).toBe('FORBIDDEN')
  })
})
