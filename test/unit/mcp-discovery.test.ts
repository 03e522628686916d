/**
 * MCP discovery (oauth/mcp-discovery.ts): canonical server URIs, Bearer challenges, and the
 * order of the well-known fallbacks, against a real HTTP server on 127.0.0.1 that logs what
 * it is asked.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createOutbound } from '../../src/oauth/http.js'
import { canonicalServerUri, discoverMcpServer, parseBearerChallenge } from '../../src/oauth/mcp-discovery.js'

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
async function serve(routes: (origin: string) => Record<string, unknown>): Promise<{ origin: string; asked: string[] }> {
  const asked: string[] = []
  let table: Record<string, unknown> = {}
  server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`)
    const body = table[req.url ?? '']
    if (body === undefined || req.method !== 'GET') return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  table = routes(origin)
  return { origin, asked }
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
