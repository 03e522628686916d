/**
 * A real remote MCP server for end-to-end tests: the official SDK's McpServer behind its
 * Streamable HTTP transport (stateless, JSON answers) on 127.0.0.1, protected by a real OAuth
 * authorization server (oidc-provider 9, on its own port) with dynamic client registration,
 * resource indicators and PKCE. The MCP server checks each bearer token against the AS's own
 * token store (audience = the MCP server URL), answers 401 with a resource_metadata challenge,
 * and 403 insufficient_scope for the `write` tool without `mcp:write`.
 *
 * Knobs: `cimd` (the AS accepts a client ID metadata document URL as client_id and fetches it),
 * `dcr`, `deterministicIds` (a re-registration with the same metadata gets the same client_id,
 * as ASes that derive ids from metadata do), `purgeClients()` / `purgeBeforeNextTokenRequest()` /
 * `rejectNextTokenRequests()` / `failNextTokenRequests()`,
 * `rejectResource`, `dropIss`, where the protected-resource metadata lives and which scopes the
 * challenges and metadata name (`prmPath`, `prmScopes`, `challengeScope`, `stepUpChallenge`,
 * `writeScope`), and hostile metadata (`metadata` overrides of the AS document, `prmAuthorizationServer`).
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import Provider from 'oidc-provider'
import { z } from 'zod'
import { listenOnFreePort } from './ports.js'

export interface McpTestOptions {
  dcr?: boolean
  cimd?: boolean
  deterministicIds?: boolean
  rotateRefreshToken?: boolean
  accessTokenTtlSeconds?: number
  /** The AS refuses any request carrying `resource` (as Microsoft Entra v2 does). */
  rejectResource?: boolean
  /** Fields of the AS metadata document to replace (undefined deletes) — hostile servers. */
  metadata?: Record<string, unknown>
  /** What the protected-resource metadata names as authorization server (default: the real one). */
  prmAuthorizationServer?: string
  /** The `iss` the AS puts in its authorization responses (default: its issuer) — a mix-up attack. */
  responseIss?: string
  /** The AS advertises `iss` (RFC 9207) but leaves it out of its authorization responses. */
  dropIss?: boolean
  /** Where the protected-resource metadata is served (default: the path-inserted well-known URL); the challenge names it. */
  prmPath?: string
  /** The PRM's `scopes_supported` (default `['mcp:read']`). */
  prmScopes?: string[]
  /** The scope of the 401 challenge (default `mcp:read`; null: none). */
  challengeScope?: string | null
  /** The scope of the `write` tool's 403 challenge (default `mcp:read mcp:write`). */
  stepUpChallenge?: string
  /** The scope the `write` tool needs (default `mcp:write`). */
  writeScope?: string
}

export interface McpTestServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:1234/mcp. */
  url: string
  issuer: string
  provider: Provider
  /** Requests by kind: registrations, CIMD fetches, token grants by type, MCP calls by outcome. */
  counts: Map<string, number>
  /** Every `resource` parameter the AS received, by endpoint. */
  resources: Array<{ endpoint: string; resource: string | null }>
  /** Documents the AS fetched as client ID metadata documents. */
  fetchedDocuments: Array<Record<string, unknown>>
  purgeClients(): void
  /** Purges the clients just before the AS handles its next token request (after the person consented). */
  purgeBeforeNextTokenRequest(): void
  /** The next `n` token requests are answered `invalid_client` without touching the client (a replica that has not seen it yet); counted as `spurious_invalid_client`. */
  rejectNextTokenRequests(n: number): void
  /** The next `n` token requests are answered 503 (the AS briefly unavailable); counted as `unavailable_token`. */
  failNextTokenRequests(n: number): void
  /** From now on the protected-resource metadata names this authorization server. */
  moveTo(issuer: string): void
  close(): Promise<void>
}

const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)

function tracked(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

export async function startMcpServer(options: McpTestOptions = {}): Promise<McpTestServer> {
  const counts = new Map<string, number>()
  const resources: McpTestServer['resources'] = []
  const fetchedDocuments: Array<Record<string, unknown>> = []
  let asHandler: (req: IncomingMessage, res: ServerResponse) => void = () => {}
  let mcpHandler: (req: IncomingMessage, res: ServerResponse) => void = () => {}
  const asServer = createServer((req, res) => asHandler(req, res))
  const mcpServer = createServer((req, res) => mcpHandler(req, res))
  const asPort = await listenOnFreePort(asServer)
  const mcpPort = await listenOnFreePort(mcpServer)
  const issuer = `http://127.0.0.1:${asPort}`
  const url = `http://127.0.0.1:${mcpPort}/mcp`

  // The AS's storage, with a Client model that can be purged and that resolves CIMD URLs.
  const store = new Map<string, Record<string, unknown>>()
  class Adapter {
    constructor(readonly name: string) {}
    async upsert(id: string, payload: Record<string, unknown>) {
      store.set(`${this.name}:${id}`, payload)
    }
    async find(id: string) {
      const hit = store.get(`${this.name}:${id}`)
      if (hit || this.name !== 'Client' || !options.cimd || !/^https?:\/\//.test(id)) return hit
      // CIMD: the client_id is a URL; fetch the document and take it as the client's metadata.
      count(counts, 'cimd_fetch')
      const r = await fetch(id)
      if (r.status !== 200) return undefined
      const doc = (await r.json()) as Record<string, unknown>
      fetchedDocuments.push(doc)
      if (doc['client_id'] !== id) return undefined
      return {
        client_id: id,
        client_name: doc['client_name'],
        redirect_uris: doc['redirect_uris'],
        grant_types: doc['grant_types'],
        response_types: doc['response_types'],
        token_endpoint_auth_method: 'none',
        application_type: 'web',
      }
    }
    async findByUid(uid: string) {
      for (const [k, v] of store) if (k.startsWith(`${this.name}:`) && v['uid'] === uid) return v
      return undefined
    }
    async findByUserCode() {
      return undefined
    }
    async consume(id: string) {
      const v = store.get(`${this.name}:${id}`)
      if (v) v['consumed'] = Math.floor(Date.now() / 1000)
    }
    async destroy(id: string) {
      store.delete(`${this.name}:${id}`)
    }
    async revokeByGrantId(grantId: string) {
      for (const [k, v] of store) if (v['grantId'] === grantId) store.delete(k)
    }
  }

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: randomBytes(8).toString('hex') }
  const provider = new Provider(issuer, {
    adapter: Adapter as never,
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub }) }
    },
    scopes: ['openid', 'offline_access', 'mcp:read', 'mcp:write'],
    features: {
      devInteractions: { enabled: true },
      registration: {
        enabled: options.dcr ?? true,
        ...(options.deterministicIds
          ? {
              idFactory: (ctx: { oidc: { body?: Record<string, unknown> } }) =>
                `dcr-${createHash('sha256')
                  .update(JSON.stringify(ctx.oidc.body?.['redirect_uris'] ?? []))
                  .digest('hex')
                  .slice(0, 16)}`,
            }
          : {}),
      },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => url,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== url) throw new Error('unknown resource')
          return {
            scope: 'mcp:read mcp:write',
            audience: url,
            accessTokenFormat: 'opaque',
            accessTokenTTL: options.accessTokenTtlSeconds ?? 3600,
          }
        },
      },
    } as never,
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    rotateRefreshToken: options.rotateRefreshToken ?? true,
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token')
    },
  })
  provider.on('grant.success', (ctx) => count(counts, `grant:${String(ctx.oidc.params?.['grant_type'])}`))
  provider.on('grant.error', (ctx) => count(counts, `grant_error:${String(ctx.oidc.params?.['grant_type'])}`))
  provider.on('registration_create.success', () => count(counts, 'registration'))

  let purgeAtToken = false
  let spurious = 0
  let unavailable = 0
  const purge = () => {
    for (const k of [...store.keys()]) if (k.startsWith('Client:')) store.delete(k)
  }
  // Koa middleware in front of oidc-provider: records `resource`, plays hostile or quirky servers.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && unavailable > 0) {
      unavailable--
      count(counts, 'unavailable_token')
      ctx.status = 503
      ctx.body = { error: 'temporarily_unavailable' }
      return
    }
    if (ctx.path === '/token' && spurious > 0) {
      spurious--
      count(counts, 'spurious_invalid_client')
      ctx.status = 401
      ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' }
      return
    }
    if (ctx.path === '/token' && purgeAtToken) {
      purgeAtToken = false
      purge()
    }
    if (ctx.path === '/auth') {
      const resource = (ctx.query['resource'] as string | undefined) ?? null
      resources.push({ endpoint: 'auth', resource })
      if (options.rejectResource && resource) {
        const back = new URL(String(ctx.query['redirect_uri']))
        back.searchParams.set('error', 'invalid_target')
        back.searchParams.set('error_description', 'resource is not supported')
        back.searchParams.set('state', String(ctx.query['state'] ?? ''))
        back.searchParams.set('iss', issuer)
        ctx.redirect(back.toString())
        return
      }
    }
    await next()
    const location = String(ctx.response.get('location') ?? '')
    if (options.responseIss && location.includes('iss=')) {
      const u = new URL(location)
      u.searchParams.set('iss', options.responseIss)
      ctx.set('location', u.toString())
    }
    if (options.dropIss && location.includes('iss=')) {
      const u = new URL(location)
      u.searchParams.delete('iss')
      ctx.set('location', u.toString())
    }
    if (ctx.path === '/token/revocation' && ctx.status === 200) count(counts, 'revocation')
    if (ctx.path === '/token') {
      const params = (ctx as unknown as { oidc?: { params?: Record<string, unknown> } }).oidc?.params
      resources.push({
        endpoint: `token:${String(params?.['grant_type'])}`,
        resource: (params?.['resource'] as string | undefined) ?? null,
      })
    }
    if (ctx.path.startsWith('/.well-known/') && ctx.status === 200) {
      const doc = { ...(ctx.body as Record<string, unknown>) }
      if (options.cimd) doc['client_id_metadata_document_supported'] = true
      for (const [k, v] of Object.entries(options.metadata ?? {})) {
        if (v === undefined) delete doc[k]
        else doc[k] = v
      }
      ctx.body = doc
    }
  })
  asHandler = provider.callback() as typeof asHandler

  const prm = {
    resource: url,
    authorization_servers: [options.prmAuthorizationServer ?? issuer],
    scopes_supported: options.prmScopes ?? ['mcp:read'],
    bearer_methods_supported: ['header'],
  }
  const prmPath = options.prmPath ?? '/.well-known/oauth-protected-resource/mcp'
  const challenge = (res: ServerResponse, status: number, extra = '') => {
    res.writeHead(status, {
      'www-authenticate': `Bearer resource_metadata="http://127.0.0.1:${mcpPort}${prmPath}"${extra}`,
      'content-type': 'application/json',
    })
    res.end(JSON.stringify({ error: status === 401 ? 'invalid_token' : 'insufficient_scope' }))
  }

  mcpHandler = (req, res) => {
    const u = new URL(req.url ?? '/', url)
    if (u.pathname === prmPath) {
      count(counts, `prm:${u.pathname}`)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(prm))
      return
    }
    if (u.pathname !== '/mcp') {
      res.writeHead(404).end()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const auth = req.headers.authorization
        const token = auth?.startsWith('Bearer ') ? await provider.AccessToken.find(auth.slice(7)) : undefined
        if (!token || token.isExpired || token.aud !== url) {
          count(counts, 'mcp:401')
          const scope = options.challengeScope === undefined ? 'mcp:read' : options.challengeScope
          challenge(res, 401, scope === null ? '' : `, scope="${scope}"`)
          return
        }
        const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : undefined
        const granted = String(token.scope ?? '').split(' ')
        const params = body?.['params'] as { name?: string } | undefined
        if (body?.['method'] === 'tools/call' && params?.name === 'write' && !granted.includes(options.writeScope ?? 'mcp:write')) {
          count(counts, 'mcp:403')
          challenge(res, 403, `, error="insufficient_scope", scope="${options.stepUpChallenge ?? 'mcp:read mcp:write'}"`)
          return
        }
        count(counts, 'mcp:ok')
        const server = new McpServer({ name: 'latchkey-test-mcp', version: '1.0.0' })
        server.registerTool('whoami', { description: 'Who the token belongs to', inputSchema: {} }, async () => ({
          content: [{ type: 'text', text: `you are ${token.accountId}` }],
        }))
        server.registerTool('write', { description: 'Needs mcp:write', inputSchema: { text: z.string() } }, async ({ text }) => ({
          content: [{ type: 'text', text: `wrote ${text}` }],
        }))
        const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true })
        res.on('close', () => {
          void transport.close()
          void server.close()
        })
        await server.connect(transport)
        await transport.handleRequest(req, res, body)
      })().catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500)
        res.end(err.message)
      })
    })
  }

  const closeAs = tracked(asServer)
  const closeMcp = tracked(mcpServer)
  return {
    url,
    issuer,
    provider,
    counts,
    resources,
    fetchedDocuments,
    moveTo(other: string) {
      prm.authorization_servers = [other]
    },
    purgeClients: purge,
    rejectNextTokenRequests(n: number) {
      spurious = n
    },
    failNextTokenRequests(n: number) {
      unavailable = n
    },
    purgeBeforeNextTokenRequest() {
      purgeAtToken = true
    },
    async close() {
      await closeMcp()
      await closeAs()
    },
  }
}
