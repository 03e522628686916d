/**
 * The authorize fast path (`src/http/fast-authorize.ts`) answers exactly as the Fastify route:
 * two servers on one SQLite file, one with the fast path and one without, get the same requests
 * (the connected user's hot call, pending flows, every kind of bad input, other media types,
 * a chunked body) and must give the same status, headers and body. And the fast path's own
 * properties: the hot call never reaches Fastify, a request it hands over keeps its bytes, and
 * a handed-over request is counted once by the per-key rate limit.
 */
import { mkdtempSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Latchkey } from '../../packages/client/src/index.js'
import type { VerifiedKey } from '../../src/broker/api-keys.js'
import { withFastAuthorize } from '../../src/http/fast-authorize.js'
import { ADMITTED, type AdmittedRequest, RateLimiter, requireKey } from '../../src/http/guard.js'
import { authorizeBodySchema } from '../../src/http/routes/auth.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey, type Latchkey as Server } from '../../src/server.js'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { freePort, listenOnFreePort } from '../helpers/ports.js'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One raw HTTP/1.1 request (node:http, so a chunked body and any header can be sent as given). */
function send(
  base: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; chunked?: boolean; method?: string; path?: string },
): Promise<Answer> {
  const url = new URL(opts.path ?? '/v1/auth/authorize', base)
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body)
    const headers: Record<string, string> = { ...opts.headers }
    if (body !== undefined && !opts.chunked) headers['content-length'] = String(body.length)
    const req = httpRequest(url, { method: opts.method ?? 'POST', headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    if (body !== undefined && opts.chunked) {
      req.write(body.subarray(0, 5))
      req.end(body.subarray(5))
    } else req.end(body)
  })
}

const without = (a: Answer) => {
  const { date: _date, ...headers } = a.headers
  return { ...a, headers }
}

let h: Harness
let plain: Server
let plainUrl: string

beforeAll(async () => {
  const databaseUrl = join(mkdtempSync(join(tmpdir(), 'lk-fast-')), 'latchkey.db')
  h = await startHarness({ databaseUrl })
  const client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
  const started = await client.auth.start('alice', 'test-idp', { scopes: ['openid', 'profile', 'offline_access'] })
  await new TestBrowser().authorize(started.url!, { login: 'alice' })
  await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  // The same configuration and database on another port, without the fast path.
  const port = await freePort()
  plain = await createLatchkey(
    { ...h.latchkey.ctx.config, port },
    { fastPaths: false, logger: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })) },
  )
  await plain.listen()
  plainUrl = `http://127.0.0.1:${port}`
}, 60_000)

afterAll(async () => {
  await plain?.close()
  await h?.close()
})

const json = { 'content-type': 'application/json' }
const body = (b: unknown) => JSON.stringify(b)
const alice = { user_id: 'alice', auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } } }

/** [what, status, request]: each is sent to the fast server, then to the plain one (a flow the first opens, the second reuses). */
// `auth` is the API key's header, known once the server has started.
const cases: Array<[string, number, (auth: Record<string, string>) => Parameters<typeof send>[1]]> = [
  ['the connected user (hot)', 200, (auth) => ({ headers: { ...auth, ...json }, body: body(alice) })],
  [
    'the hot call with a charset',
    200,
    (auth) => ({ headers: { ...auth, 'content-type': 'application/json; charset=utf-8' }, body: body(alice) }),
  ],
  [
    'the hot call with Arcade’s provider_type',
    200,
    (auth) => ({
      headers: { ...auth, ...json },
      body: body({ ...alice, auth_requirement: { ...alice.auth_requirement, provider_type: 'oauth2' } }),
    }),
  ],
  ['the hot call, chunked', 200, (auth) => ({ headers: { ...auth, ...json }, body: body(alice), chunked: true })],
  ['the hot call, with whitespace around the JSON', 200, (auth) => ({ headers: { ...auth, ...json }, body: `  ${body(alice)}\n` })],
  [
    'scopes not granted (pending, a flow)',
    200,
    (auth) => ({
      headers: { ...auth, ...json },
      body: body({ ...alice, auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['email'] } } }),
    }),
  ],
  ['another user (pending)', 200, (auth) => ({ headers: { ...auth, ...json }, body: body({ ...alice, user_id: 'bob' }) })],
  ['a non-ASCII user (pending)', 200, (auth) => ({ headers: { ...auth, ...json }, body: body({ ...alice, user_id: 'zoë-ünïcode' }) })],
  ['the connection as account selector', 200, (auth) => ({ headers: { ...auth, ...json }, body: body({ ...alice, account: 'alice' }) })],
  [
    'unknown provider',
    404,
    (auth) => ({ headers: { ...auth, ...json }, body: body({ ...alice, auth_requirement: { provider_id: 'nope' } }) }),
  ],
  [
    'next_uri not allowed',
    400,
    (auth) => ({ headers: { ...auth, ...json }, body: body({ ...alice, next_uri: 'https://evil.example/x' }) }),
  ],
  [
    'provider_type other than oauth2',
    400,
    (auth) => ({
      headers: { ...auth, ...json },
      body: body({ ...alice, auth_requirement: { ...alice.auth_requirement, provider_type: 'oauth1' } }),
    }),
  ],
  ['user_id a number', 400, (auth) => ({ headers: { ...auth, ...json }, body: body({ ...alice, user_id: 7 }) })],
  ['an unknown field', 200, (auth) => ({ headers: { ...auth, ...json }, body: body({ ...alice, extra: 1 }) })],
  ['bad JSON', 400, (auth) => ({ headers: { ...auth, ...json }, body: '{"user_id": ' })],
  [
    'prototype poisoning',
    400,
    (auth) => ({
      headers: { ...auth, ...json },
      body: '{"user_id":"alice","__proto__":{"x":1},"auth_requirement":{"provider_id":"test-idp"}}',
    }),
  ],
  ['an empty JSON body', 400, (auth) => ({ headers: { ...auth, ...json }, body: '' })],
  [
    'invalid UTF-8 in the body',
    200,
    (auth) => ({
      headers: { ...auth, ...json },
      body: Buffer.concat([
        Buffer.from('{"user_id":"a'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","auth_requirement":{"provider_id":"test-idp"}}'),
      ]),
    }),
  ],
  ['text/plain', 415, (auth) => ({ headers: { ...auth, 'content-type': 'text/plain' }, body: body(alice) })],
  ['no content type', 415, (auth) => ({ headers: { ...auth }, body: body(alice) })],
  ['no API key', 401, (_auth) => ({ headers: { ...json }, body: body(alice) })],
  ['a wrong API key', 401, (_auth) => ({ headers: { authorization: 'Bearer lk_wrong', ...json }, body: body(alice) })],
  ['a query string on the path', 200, (auth) => ({ headers: { ...auth, ...json }, body: body(alice), path: '/v1/auth/authorize?x=1' })],
  ['GET on the path', 404, (auth) => ({ headers: { ...auth }, method: 'GET' })],
]

describe('the authorize fast path answers exactly as the Fastify route', () => {
  it.each(cases)('%s → %i', async (_what, status, request) => {
    const opts = request({ authorization: `Bearer ${h.apiKey}` })
    const fast = await send(h.baseURL, opts)
    const slow = await send(plainUrl, opts)
    expect(without(fast)).toEqual(without(slow))
    expect(fast.status).toBe(status)
  })

  it('hands out the same token on both and counts it on the route’s duration series', async () => {
    const fast = await send(h.baseURL, { headers: { authorization: `Bearer ${h.apiKey}`, ...json }, body: body(alice) })
    expect(fast.status).toBe(200)
    expect(JSON.parse(fast.body)).toMatchObject({ status: 'completed', context: { token: expect.any(String) } })
    const metrics = await h.latchkey.ctx.metrics.registry.metrics()
    expect(metrics).toMatch(/latchkey_http_request_duration_seconds_count\{route="\/v1\/auth\/authorize",status_class="2xx"\} [1-9]/)
  })
})

describe('withFastAuthorize on its own (a stand-in for Fastify counts what reaches it)', () => {
  const key: VerifiedKey = { id: 'key_1', role: 'runtime' }
  const prepared = '{"status":"completed"}'
  async function serve(limit: number, answer: string | undefined) {
    const reached: Array<{ body: string; admitted: VerifiedKey | undefined }> = []
    const handler = withFastAuthorize(
      {
        prepared: () => answer,
        log: createLogger('silent'),
        apiKeys: { cached: (header: string | undefined) => (header === 'Bearer good' ? key : undefined) } as never,
        limiter: new RateLimiter(limit),
        bodyLimit: 1024,
        bodySchema: authorizeBodySchema,
        record: () => {},
        closing: () => false,
        debug: false,
        trustProxy: false,
      },
      (req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          reached.push({ body: Buffer.concat(chunks).toString('utf8'), admitted: (req as AdmittedRequest)[ADMITTED] })
          res.writeHead(299).end()
        })
      },
    )
    const server = createServer(handler)
    await listenOnFreePort(server)
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reached, close: () => new Promise((r) => server.close(r)) }
  }

  it('answers the prepared call itself, and hands the rest over with its bytes and its key', async () => {
    const s = await serve(100, prepared)
    try {
      const hot = await send(s.url, { headers: { authorization: 'Bearer good', ...json }, body: body(alice) })
      expect(hot).toMatchObject({ status: 200, body: prepared })
      expect(s.reached).toEqual([])
      const bad = '{"user_id": 7}'
      const handed = await send(s.url, { headers: { authorization: 'Bearer good', ...json }, body: bad })
      expect(handed.status).toBe(299)
      expect(s.reached).toEqual([{ body: bad, admitted: key }])
      const unknownKey = await send(s.url, { headers: { authorization: 'Bearer other', ...json }, body: body(alice) })
      expect(unknownKey.status).toBe(299)
      expect(s.reached[1]).toEqual({ body: body(alice), admitted: undefined })
    } finally {
      await s.close()
    }
  })

  it('counts a handed-over request once against the key’s rate limit', async () => {
    const s = await serve(3, undefined)
    try {
      for (let i = 0; i < 3; i++) {
        expect((await send(s.url, { headers: { authorization: 'Bearer good', ...json }, body: body(alice) })).status).toBe(299)
      }
      // All three were admitted (counted) here; the fourth is over the limit and goes to the guard unadmitted.
      expect(s.reached.map((r) => r.admitted)).toEqual([key, key, key])
      await send(s.url, { headers: { authorization: 'Bearer good', ...json }, body: body(alice) })
      expect(s.reached[3]!.admitted).toBeUndefined()
    } finally {
      await s.close()
    }
  })
})

describe('the per-key rate limit through the fast path and the route together', () => {
  it('allows exactly the limit, hot calls and handed-over calls alike', async () => {
    const hh = await startHarness({ config: { rateLimit: { perMinute: 4 } } as never })
    try {
      const a = { authorization: `Bearer ${hh.apiKey}`, ...json }
      const statuses = []
      // An invalid body is admitted by the fast path, then answered 400 by the route: one count, not two.
      statuses.push((await send(hh.baseURL, { headers: a, body: '{"user_id":7}' })).status)
      statuses.push((await send(hh.baseURL, { headers: a, body: body({ ...alice, user_id: 'carol' }) })).status)
      statuses.push((await send(hh.baseURL, { headers: a, body: '{"user_id":7}' })).status)
      statuses.push((await send(hh.baseURL, { headers: a, body: body({ ...alice, user_id: 'carol' }) })).status)
      const limited = await send(hh.baseURL, { headers: a, body: body({ ...alice, user_id: 'carol' }) })
      statuses.push(limited.status)
      expect(statuses).toEqual([400, 200, 400, 200, 429])
      expect(limited.headers['retry-after']).toMatch(/^\d+$/)
    } finally {
      await hh.close()
    }
  })
})

describe('the key guard and a request the fast path admitted', () => {
  it('admits it on a runtime route without counting it again, and still checks the role on an admin route', () => {
    const runtimeKey: VerifiedKey = { id: 'key_rt', role: 'runtime' }
    const limiter = new RateLimiter(1)
    const apiKeys = { cached: () => undefined } as never
    const failures = { blockedFor: () => 0, fail: () => {} } as never
    const request = (key: VerifiedKey) => ({ raw: { [ADMITTED]: key }, headers: {}, apiKey: undefined }) as never
    const outcome = (guard: ReturnType<typeof requireKey>, req: { apiKey?: VerifiedKey }) => {
      let err: Error | undefined
      guard(req as never, {} as never, (e?: Error) => {
        err = e
      })
      return err
    }
    const runtimeReq = request(runtimeKey) as { apiKey?: VerifiedKey }
    expect(outcome(requireKey(apiKeys, limiter, failures, 'runtime'), runtimeReq)).toBeUndefined()
    expect(runtimeReq.apiKey).toBe(runtimeKey)
    // Not counted by the guard: the key's one request a minute is still there.
    expect(limiter.take(runtimeKey.id)).toBe(0)
    const adminErr = outcome(requireKey(apiKeys, new RateLimiter(100), failures, 'admin'), request(runtimeKey) as never)
    expect(adminErr).toMatchObject({ code: 'FORBIDDEN' })
  })
})
