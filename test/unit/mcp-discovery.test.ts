/**
 * MCP discovery (oauth/mcp-discovery.ts): canonical server URIs, Bearer challenges, and the
 * order of the well-known fallbacks, against a real HTTP server on 127.0.0.1 that logs what
 * it is asked.
 */
import { createServer, type Server } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  DISCOVERY_FAILURE_TTL_MS,
  DISCOVERY_MAX_TTL_MS,
  DISCOVERY_TTL_MS,
  discoveryTtlMs,
  McpProviders,
} from '../../src/broker/mcp-providers.js'
import { createOutbound } from '../../src/oauth/http.js'
import { cacheMaxAge, canonicalServerUri, discoverMcpServer, parseBearerChallenge } from '../../src/oauth/mcp-discovery.js'
import { listenOnFreePort } from '../helpers/ports.js'

const http = {
  timeoutMs: 5000,
  outbound: createOutbound({ allowPrivate: ['127.0.0.0/8'], proxy: { http: undefined, https: undefined, noProxy: undefined } }),
}
let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

/** A server answering `routes` (path → JSON body) and 404 to anything else; returns its origin and the log. */
async function serve(
  routes: (origin: string) => Record<string, unknown>,
  challenge?: (origin: string) => string,
): Promise<{ origin: string; asked: string[]; control: { cacheControl?: string; status?: number } }> {
  const asked: string[] = []
  const control: { cacheControl?: string; status?: number } = {}
  let table: Record<string, unknown> = {}
  let origin = ''
  server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`)
    // The MCP endpoint's unauthenticated answer: a 401 with this Bearer challenge.
    if (challenge && req.method === 'POST') return void res.writeHead(401, { 'www-authenticate': challenge(origin) }).end()
    const body = table[req.url ?? '']
    if (body === undefined || req.method !== 'GET') return void res.writeHead(404).end()
    if (control.status) return void res.writeHead(control.status).end()
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (control.cacheControl) headers['cache-control'] = control.cacheControl
    res.writeHead(200, headers).end(JSON.stringify(body))
  })
  const port = await listenOnFreePort(server!)
  origin = `http://127.0.0.1:${port}`
  table = routes(origin)
  return { origin, asked, control }
}

const asMetadata = (issuer: string) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  code_challenge_methods_supported: ['S256'],
})

describe('canonical server URI and challenges', () => {
  it.each([
    ['HTTPS://MCP.Example.com/mcp/', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/', 'https://mcp.example.com'],
    ['https://mcp.example.com/mcp#frag', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com:443/a/b', 'https://mcp.example.com/a/b'],
  ])('%s → %s', (raw, canonical) => expect(canonicalServerUri(raw)).toBe(canonical))

  it('refuses non-http URLs and credentials', () => {
    expect(() => canonicalServerUri('ftp://x/mcp')).toThrow(/http/)
    expect(() => canonicalServerUri('https://u:p@x/mcp')).toThrow(/credentials/)
  })

  it('reads resource_metadata, scope and error from a Bearer challenge', () => {
    expect(parseBearerChallenge('Bearer resource_metadata="https://x/.well-known/oauth-protected-resource", scope="a b"')).toEqual({
      resourceMetadata: 'https://x/.well-known/oauth-protected-resource',
      scope: 'a b',
    })
    expect(parseBearerChallenge('Basic realm="x", Bearer error="insufficient_scope", scope="a"')).toEqual({
      error: 'insufficient_scope',
      scope: 'a',
    })
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined()
    expect(parseBearerChallenge(null)).toBeUndefined()
  })
})

describe('discovery order', () => {
  it('without a challenge: path-inserted then root PRM; RFC 8414, OIDC insertion, OIDC appending for the AS', async () => {
    const { origin, asked } = await serve((o) => ({
      '/.well-known/oauth-protected-resource': { resource: o, authorization_servers: [`${o}/tenant1`] },
      '/tenant1/.well-known/openid-configuration': asMetadata(`${o}/tenant1`),
    }))
    const d = await discoverMcpServer(`${origin}/t/mcp`, http, { allowInsecureLoopback: true })
    expect(asked).toEqual([
      'POST /t/mcp',
      'GET /.well-known/oauth-protected-resource/t/mcp',
      'GET /.well-known/oauth-protected-resource',
      'GET /.well-known/oauth-authorization-server/tenant1',
      'GET /.well-known/openid-configuration/tenant1',
      'GET /tenant1/.well-known/openid-configuration',
    ])
    expect(d.as.issuer).toBe(`${origin}/tenant1`)
    expect(d.resource).toBe(origin)
  })

  it("the challenge's resource_metadata comes first, even where a well-known document exists; its scope beats scopes_supported", async () => {
    const { origin, asked } = await serve(
      (o) => ({
        // A decoy at the well-known path names another AS: asking it would show in `asked` and the issuer.
        '/.well-known/oauth-protected-resource/mcp': { resource: `${o}/mcp`, authorization_servers: [`${o}/decoy`] },
        '/meta/acme.json': { resource: `${o}/mcp`, authorization_servers: [o], scopes_supported: ['files.read', 'files.write'] },
        '/.well-known/oauth-authorization-server': asMetadata(o),
      }),
      (o) => `Bearer resource_metadata="${o}/meta/acme.json", scope="files.read"`,
    )
    const d = await discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })
    expect(asked).toEqual(['POST /mcp', 'GET /meta/acme.json', 'GET /.well-known/oauth-authorization-server'])
    expect(d.as.issuer).toBe(origin)
    expect(d.scopes).toEqual(['files.read'])
  })

  it('follows a resource_metadata URL on another origin (RFC 9728 §5.1), still requiring the resource to be the server', async () => {
    // The metadata host: another origin (port) than the MCP server, answering for it.
    let mcpOrigin = ''
    const metaHost = createServer((req, res) => {
      const body =
        req.url === '/prm/good'
          ? { resource: `${mcpOrigin}/mcp`, authorization_servers: [mcpOrigin] }
          : req.url === '/prm/other'
            ? { resource: 'https://elsewhere.example/mcp', authorization_servers: [mcpOrigin] }
            : undefined
      if (!body) return void res.writeHead(404).end()
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
    const metaOrigin = `http://127.0.0.1:${await listenOnFreePort(metaHost)}`
    try {
      let path = '/prm/good'
      const { origin, asked } = await serve(
        (o) => ({ '/.well-known/oauth-authorization-server': asMetadata(o) }),
        () => `Bearer resource_metadata="${metaOrigin}${path}"`,
      )
      mcpOrigin = origin
      const d = await discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })
      expect(d.resource).toBe(`${origin}/mcp`)
      expect(asked).toEqual(['POST /mcp', 'GET /.well-known/oauth-authorization-server'])
      path = '/prm/other'
      await expect(discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })).rejects.toThrow(/names resource/)
    } finally {
      await new Promise<void>((resolve) => metaHost.close(() => resolve()))
    }
  })

  it('refuses a resource_metadata URL over plain http (it could be rewritten to name another authorization server)', async () => {
    let named = 'http://meta.example.net/prm'
    const { origin, asked } = await serve(
      (o) => ({
        '/meta/acme.json': { resource: `${o}/mcp`, authorization_servers: [o] },
        '/.well-known/oauth-authorization-server': asMetadata(o),
      }),
      () => `Bearer resource_metadata="${named}"`,
    )
    await expect(discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })).rejects.toThrow(
      /resource_metadata URL http:\/\/meta\.example\.net\/prm must use https:\/\//,
    )
    // This machine over http only where insecure loopback is allowed (tests, --dev).
    named = `${origin}/meta/acme.json`
    await expect(discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: false })).rejects.toThrow(/must use https:\/\//)
    expect(asked).toEqual(['POST /mcp', 'POST /mcp'])
    const d = await discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })
    expect(d.resource).toBe(`${origin}/mcp`)
  })

  it('refuses protected-resource metadata without resource (REQUIRED, RFC 9728 §2)', async () => {
    const { origin } = await serve((o) => ({
      '/.well-known/oauth-protected-resource/mcp': { authorization_servers: [o] },
      '/.well-known/oauth-authorization-server': asMetadata(o),
    }))
    await expect(discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })).rejects.toThrow(/no resource/)
  })

  it("a challenge without scope: the metadata's scopes_supported", async () => {
    const { origin } = await serve(
      (o) => ({
        '/meta/acme.json': { resource: `${o}/mcp`, authorization_servers: [o], scopes_supported: ['files.read', 'files.write'] },
        '/.well-known/oauth-authorization-server': asMetadata(o),
      }),
      (o) => `Bearer resource_metadata="${o}/meta/acme.json"`,
    )
    const d = await discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })
    expect(d.scopes).toEqual(['files.read', 'files.write'])
  })

  it('refuses metadata naming a resource on another origin, and an issuer differing by a trailing slash', async () => {
    const { origin } = await serve((o) => ({
      '/.well-known/oauth-protected-resource/mcp': { resource: 'https://other.example/mcp', authorization_servers: [o] },
    }))
    await expect(discoverMcpServer(`${origin}/mcp`, http, { allowInsecureLoopback: true })).rejects.toThrow(/not http/)
    await new Promise<void>((resolve) => server!.close(() => resolve()))
    const second = await serve((o) => ({
      '/.well-known/oauth-protected-resource/mcp': { resource: `${o}/mcp`, authorization_servers: [o] },
      '/.well-known/oauth-authorization-server': asMetadata(`${o}/`),
    }))
    await expect(discoverMcpServer(`${second.origin}/mcp`, http, { allowInsecureLoopback: true })).rejects.toThrow(/expected exactly/)
  })
})

describe('discovery cache', () => {
  afterEach(() => vi.useRealTimers())
  const routes = (o: string) => ({
    '/.well-known/oauth-protected-resource/mcp': { resource: `${o}/mcp`, authorization_servers: [o] },
    '/.well-known/oauth-authorization-server': asMetadata(o),
  })
  const setup = async () => {
    const served = await serve(routes)
    const cache = new McpProviders({ http, config: { allowInsecureLoopbackProviders: true } } as never)
    const provider = { id: 'p', mcp: { serverUrl: `${served.origin}/mcp` } } as never
    return { ...served, discover: () => cache.discover(provider) }
  }
  const later = (ms: number) => vi.setSystemTime(Date.now() + ms)

  it('reads max-age (the shortest of both answers; no-store/no-cache: 0) and bounds it', () => {
    expect(cacheMaxAge('public, max-age=300')).toBe(300)
    expect(cacheMaxAge('no-store')).toBe(0)
    expect(cacheMaxAge('private')).toBeUndefined()
    expect(cacheMaxAge(null)).toBeUndefined()
    expect(discoveryTtlMs({})).toBe(DISCOVERY_TTL_MS)
    expect(discoveryTtlMs({ maxAgeSeconds: 0 })).toBe(60_000)
    expect(discoveryTtlMs({ maxAgeSeconds: 3600 })).toBe(3600_000)
    expect(discoveryTtlMs({ maxAgeSeconds: 10 ** 9 })).toBe(DISCOVERY_MAX_TTL_MS)
  })

  it('reuses an answer for its max-age, then asks again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { asked, control, discover } = await setup()
    control.cacheControl = 'max-age=7200'
    expect((await discover()).maxAgeSeconds).toBe(7200)
    const once = asked.length
    later(DISCOVERY_TTL_MS + 60_000) // past the 15 min default: still cached
    await discover()
    expect(asked.length).toBe(once)
    later(7200_000)
    await discover()
    expect(asked.length).toBe(2 * once)
  })

  it('a max-age under a minute is taken as one minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { asked, control, discover } = await setup()
    control.cacheControl = 'max-age=1'
    await discover()
    const once = asked.length
    later(30_000)
    await discover()
    expect(asked.length).toBe(once)
    later(31_000)
    await discover()
    expect(asked.length).toBe(2 * once)
  })

  it('remembers a failure for 30 s: a down server is not asked on every request', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { asked, control, discover } = await setup()
    control.status = 503
    await expect(discover()).rejects.toThrow(/HTTP 503/)
    const once = asked.length
    later(DISCOVERY_FAILURE_TTL_MS - 1000)
    await expect(discover()).rejects.toThrow(/HTTP 503/)
    expect(asked.length).toBe(once)
    // Back up, and the failure expired: asked again, and answered.
    delete control.status
    later(2000)
    expect((await discover()).as.issuer).toBeTruthy()
    expect(asked.length).toBeGreaterThan(once)
  })
})
