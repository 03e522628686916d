/**
 * Every outbound request goes through `oauth/http.ts`: the egress proxy from the standard
 * environment (a real CONNECT proxy counts what went through it, NO_PROXY hosts bypass it), and
 * the SSRF guard (metadata, private and loopback addresses, names that resolve to them, also at
 * connect time, and credentials in URLs), checked against a real listener that counts
 * connections: a refused request opens none.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOutbound, providerAnswer, providerFetch, providerStream } from '../../src/oauth/http.js'
import { ProviderError } from '../../src/oauth/provider-error.js'
import { TestBrowser } from '../helpers/browser.js'
import { type ConnectProxy, startConnectProxy } from '../helpers/connect-proxy.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { freePort } from '../helpers/ports.js'

async function connectUser(h: Harness, user: string): Promise<void> {
  const client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
  const started = await client.auth.start(user, 'test-idp', { scopes: ['openid'] })
  await new TestBrowser().authorize(started.url!, { login: user })
  const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  expect(done.status).toBe('completed')
}

describe('egress proxy (HTTP_PROXY / NO_PROXY)', () => {
  let proxy: ConnectProxy
  beforeAll(async () => {
    proxy = await startConnectProxy()
  })
  afterAll(async () => proxy?.close())

  it('sends the token request through the proxy', async () => {
    const h = await startHarness({ env: { HTTP_PROXY: proxy.url } })
    try {
      const before = proxy.tunnels.length
      await connectUser(h, 'proxied')
      const idpHost = new URL(h.idp.issuer).host
      expect(proxy.tunnels.slice(before)).toContain(idpHost)
    } finally {
      await h.close()
    }
  })

  it('lower-case http_proxy too, and a NO_PROXY host bypasses it', async () => {
    const h = await startHarness({ env: { http_proxy: proxy.url, NO_PROXY: '127.0.0.1' } })
    try {
      const before = proxy.tunnels.length
      await connectUser(h, 'direct')
      expect(proxy.tunnels.length).toBe(before)
    } finally {
      await h.close()
    }
  })
})

describe('proxied API calls behind an egress proxy', () => {
  it('check every call: a name that rebinds to loopback within seconds is refused, not cached as safe', async () => {
    // Behind an egress proxy the proxy resolves the name, so no connect-time lookup of ours runs:
    // the pre-send check is the only one, and a cached "this host was fine" would let a rebound
    // name through for the cache's lifetime (review finding on the 5 s pre-send cache).
    const proxy = await startConnectProxy()
    const upstream = createServer((_req, res) => res.end('internal secret'))
    const port = await freePort()
    await new Promise<void>((resolve) => upstream.listen(port, '127.0.0.1', resolve))
    let address = '93.184.216.34' // public: passes the guard
    const outbound = createOutbound({
      allowPrivate: [],
      proxy: { http: proxy.url, https: undefined, noProxy: undefined },
      resolve: async () => [{ address, family: 4 }],
    })
    const call = () =>
      providerStream({ timeoutMs: 3000, outbound }, { url: new URL(`http://localhost:${port}/x`), method: 'GET', headers: {} })
    try {
      const first = await call()
      expect(first.status).toBe(200)
      await first.body.resume()
      address = '127.0.0.1'
      await expect(call()).rejects.toThrow(/loopback/)
    } finally {
      await outbound.close()
      await proxy.close()
      await new Promise<void>((resolve) => upstream.close(() => resolve()))
    }
  })
})

describe('token requests read without a Response (providerAnswer)', () => {
  let server: Server
  let base: string
  const seen: Array<{ headers: Record<string, unknown>; body: string }> = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/' }).end()
        else if (req.url === '/big') res.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(1024 * 1024 + 1))
        else if (req.url === '/silent')
          res.writeHead(200).flushHeaders() // headers only: the body never comes
        else res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"invalid_grant"}')
      })
    })
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })
  const send = (jsonBody = false, timeoutMs = 5000) =>
    providerAnswer(
      {
        timeoutMs,
        outbound: createOutbound({ allowPrivate: ['127.0.0.1'], proxy: { http: undefined, https: undefined, noProxy: undefined } }),
      },
      { jsonBody },
    )

  it('sends the form (or its JSON form) with a User-Agent and returns status, content type and body', async () => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r1' })
    expect(await send()(`${base}/token`, { method: 'POST', body: form, headers: { Accept: 'application/json' } })).toEqual({
      status: 400,
      contentType: 'application/json; charset=utf-8',
      body: '{"error":"invalid_grant"}',
    })
    expect(seen.at(-1)).toMatchObject({
      body: 'grant_type=refresh_token&refresh_token=r1',
      headers: {
        'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
        accept: 'application/json',
        'user-agent': expect.stringMatching(/^Latchkey\//),
      },
    })
    await send(true)(`${base}/token`, { method: 'POST', body: form })
    expect(seen.at(-1)).toMatchObject({
      body: '{"grant_type":"refresh_token","refresh_token":"r1"}',
      headers: { 'content-type': 'application/json' },
    })
  })

  it('follows no redirect and refuses a body over 1 MiB', async () => {
    await expect(send()(`${base}/redirect`, { method: 'POST', body: 'x' })).rejects.toThrow(/redirects are not followed/)
    await expect(send()(`${base}/big`, { method: 'POST', body: 'x' })).rejects.toThrow(/larger than 1 MiB/)
  })

  it('gives up after the timeout, also on a body that never ends', async () => {
    const err = await send(false, 200)(`${base}/silent`, { method: 'POST', body: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderError)
    expect(err).toMatchObject({ kind: 'transient', message: 'provider did not answer within 200 ms' })
  })
})

describe('SSRF guard', () => {
  let listener: Server
  let port: number
  let connections = 0
  beforeAll(async () => {
    port = await freePort()
    listener = createServer((_req, res) => res.end('{}'))
    listener.on('connection', () => connections++)
    await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    listener.closeAllConnections()
    await new Promise((r) => listener.close(r))
  })

  const noProxy = { http: undefined, https: undefined, noProxy: undefined }
  /** A resolver for made-up names: `rebind.test` gives `answers` in turn (the last one repeats). */
  const resolver = (...answers: string[]) => {
    let i = 0
    return async (name: string) => {
      if (name !== 'rebind.test') throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
      const address = answers[Math.min(i++, answers.length - 1)]!
      return [{ address, family: address.includes(':') ? 6 : 4 }]
    }
  }
  const call = (url: string, allowPrivate: string[], resolve = resolver('127.0.0.1')) =>
    providerFetch({ timeoutMs: 5000, outbound: createOutbound({ allowPrivate, proxy: noProxy, resolve }) })(url, { method: 'POST' })

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a linkLocal address/],
    ['http://[::ffff:127.0.0.1]:1/token', /is a loopback address/],
    ['http://[fd00::1]/token', /is a uniqueLocal address/],
    ['http://10.1.2.3/token', /is a private address/],
    ['http://100.64.0.1/token', /is a carrierGradeNat address/],
    ['http://metadata.google.internal/computeMetadata/v1/', /metadata service/],
    ['http://user:pass@rebind.test/token', /URLs with credentials are refused/],
  ])('refuses %s', async (url, reason) => {
    const err = await call(url, []).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderError)
    expect((err as Error).message).toMatch(/^outbound request refused: /)
    expect((err as Error).message).toMatch(reason)
  })

  it('refuses loopback, literal or through a name, without opening a connection', async () => {
    const before = connections
    await expect(call(`http://127.0.0.1:${port}/token`, [])).rejects.toThrow(/127\.0\.0\.1 is a loopback address/)
    await expect(call(`http://rebind.test:${port}/token`, [])).rejects.toThrow(
      /rebind\.test resolves to 127\.0\.0\.1 is a loopback address/,
    )
    expect(connections).toBe(before)
    // The allow-list lets it through, and the listener sees that connection.
    expect((await call(`http://rebind.test:${port}/token`, ['127.0.0.1'])).status).toBe(200)
    expect(connections).toBe(before + 1)
  })

  it('refuses the same for a token request (providerAnswer: the refresh grant), also at connect time', async () => {
    const before = connections
    const answer = (url: string, allowPrivate: string[], resolve = resolver('127.0.0.1')) =>
      providerAnswer({ timeoutMs: 5000, outbound: createOutbound({ allowPrivate, proxy: noProxy, resolve }) })(url, { method: 'POST' })
    await expect(answer('http://169.254.169.254/latest/meta-data/', [])).rejects.toThrow(/^outbound request refused: .*linkLocal/)
    await expect(answer(`http://127.0.0.1:${port}/token`, [])).rejects.toThrow(/127\.0\.0\.1 is a loopback address/)
    await expect(answer(`http://rebind.test:${port}/token`, [], resolver('93.184.215.14', '127.0.0.1'))).rejects.toThrow(
      /^outbound request refused: rebind\.test resolves to 127\.0\.0\.1 is a loopback address/,
    )
    expect(connections).toBe(before)
    expect(await answer(`http://rebind.test:${port}/token`, ['127.0.0.1'])).toMatchObject({ status: 200, body: '{}' })
  })

  it('checks the address the connection resolves, not only the first answer (DNS rebinding)', async () => {
    const before = connections
    const err = await call(`http://rebind.test:${port}/token`, [], resolver('93.184.215.14', '127.0.0.1')).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/^outbound request refused: rebind\.test resolves to 127\.0\.0\.1 is a loopback address/)
    expect(connections).toBe(before)
  })

  it('refuses such providers at the admin API with a 400 that says why', async () => {
    const h = await startHarness()
    try {
      const create = async (tokenEndpoint: string) => {
        const entry = h.idp.entry('ssrf') as { oauth2: { token_request: { endpoint: string } } }
        entry.oauth2.token_request.endpoint = tokenEndpoint
        const r = await fetch(`${h.baseURL}/v1/admin/auth_providers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(entry),
        })
        return { status: r.status, body: (await r.json()) as { name: string; message: string } }
      }
      for (const [url, reason] of [
        ['https://169.254.169.254/token', /oauth2\.token_request\.endpoint: 169\.254\.169\.254: 169\.254\.169\.254 is a linkLocal address/],
        [
          'https://user:pass@idp.example/token',
          /oauth2\.token_request\.endpoint: https:\/\/…@idp\.example: URLs with credentials are refused/,
        ],
        ['https://metadata.google.internal/token', /metadata service/],
      ] as const) {
        const r = await create(url)
        expect(r.status).toBe(400)
        expect(r.body.name).toBe('BAD_REQUEST')
        expect(r.body.message).toMatch(reason)
      }
    } finally {
      await h.close()
    }
  })

  it('nothing in src/ but oauth/http.ts (and the client SDK) calls fetch', () => {
    const root = fileURLToPath(new URL('../../src', import.meta.url))
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name)
        if (statSync(path).isDirectory()) {
          if (path !== join(root, 'client')) walk(path)
        } else if (
          path.endsWith('.ts') &&
          path !== join(root, 'oauth', 'http.ts') &&
          path !== join(root, 'http', 'dashboard', 'app-js.ts')
        ) {
          // (app-js.ts is the dashboard's browser script as a string: its fetch runs in the operator's browser.)
          // Outbound calls: fetch, undici, or node:http(s)' request/get (types and servers are fine).
          const text = readFileSync(path, 'utf8')
          if (
            /(^|[^\w.])fetch\s*\(|globalThis\.fetch|from 'undici'|import\s+(\w+|\*\s+as\s+\w+|\{[^}]*\b(request|get)\b[^}]*\})\s+from 'node:https?'/.test(
              text,
            )
          )
            offenders.push(path.slice(root.length + 1))
        }
      }
    }
    walk(root)
    expect(offenders).toEqual([])
  })
})
