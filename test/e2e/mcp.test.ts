/**
 * MCP servers as providers (issue 13), end to end with real parts: an MCP server built with the
 * official SDK, protected by a real OAuth AS (oidc-provider), Latchkey in between, and the SDK's
 * own MCP client calling a tool with the token Latchkey hands out.
 */

import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Latchkey as LatchkeyClient } from '@latchkey/client'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterEach, describe, expect, it } from 'vitest'
import { Keyring } from '../../src/crypto/keyring.js'
import { KyselyMcpStore } from '../../src/storage/mcp-registrations.js'
import { TestBrowser } from '../helpers/browser.js'
import { freePort, type Harness, startHarness } from '../helpers/latchkey.js'
import { type McpTestOptions, type McpTestServer, startMcpServer } from '../helpers/mcp-server.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(
  serverOptions: McpTestOptions = {},
  entry: Record<string, unknown> = {},
  harness: { databaseUrl?: string; encryptionKeys?: string; config?: { port: number; publicUrl: string } } = {},
): Promise<{ mcp: McpTestServer; h: Harness; client: LatchkeyClient }> {
  const mcp = await startMcpServer(serverOptions)
  cleanups.push(() => mcp.close())
  const h = await startHarness({
    ...harness,
    providerEntries: () => [{ id: 'acme-mcp', type: 'mcp', mcp: { server_url: mcp.url, ...entry } }],
  })
  cleanups.push(() => h.close())
  return { mcp, h, client: new LatchkeyClient({ apiKey: h.apiKey, baseURL: harness.config?.publicUrl ?? h.baseURL }) }
}

async function signIn(client: LatchkeyClient, userId: string, scopes?: string[]): Promise<string> {
  const started = await client.auth.start(userId, 'acme-mcp', scopes ? { scopes } : {})
  expect(started.status).toBe('pending')
  const page = await new TestBrowser().authorize(started.url!, { login: userId })
  expect(page.body).toContain('Connected')
  const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  expect(done.status).toBe('completed')
  return done.context!.token!
}

/** The official MCP client, with Latchkey's token in its transport's request headers. */
async function callTool(url: string, token: string, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const mcpClient = new Client({ name: 'agent', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } })
  await mcpClient.connect(transport)
  try {
    const result = await mcpClient.callTool({ name, arguments: args })
    return (result.content as Array<{ text: string }>)[0]!.text
  } finally {
    await mcpClient.close()
  }
}

describe('MCP server as a provider', () => {
  it('DCR-only server: discovery, one registration, PKCE + resource + iss, a token the MCP client can use', async () => {
    const { mcp, h, client } = await setup()
    const token = await signIn(client, 'alice')
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are alice')

    // One RFC 7591 registration; resource on the authorization and the token request.
    expect(mcp.counts.get('registration')).toBe(1)
    expect(mcp.resources.filter((r) => r.endpoint === 'auth' || r.endpoint === 'token:authorization_code')).toEqual([
      { endpoint: 'auth', resource: mcp.url },
      { endpoint: 'token:authorization_code', resource: mcp.url },
    ])
    const client1 = await mcp.provider.Client.find((await h.latchkey.ctx.mcp.resolve(h.latchkey.ctx.registry.get('acme-mcp')!)).clientId)
    expect(client1?.metadata()).toMatchObject({
      application_type: 'web',
      grant_types: expect.arrayContaining(['authorization_code', 'refresh_token']),
    })

    // A second user reuses the registration, and a connected user is answered at once.
    await signIn(client, 'bob')
    expect(mcp.counts.get('registration')).toBe(1)
    const again = await client.auth.start('alice', 'acme-mcp')
    expect(again.status).toBe('completed')
    expect(again.context?.token).toBe(token)
  })

  it('keeps one registration per authorization server across restarts (stored encrypted)', async () => {
    const databaseUrl = join(await mkdtemp(join(tmpdir(), 'lk-mcp-')), 'latchkey.db')
    const encryptionKeys = `1:${Keyring.generateKey()}`
    // The same public URL (so the same redirect URI) before and after the restart.
    const port = await freePort()
    const config = { port, publicUrl: `http://127.0.0.1:${port}` }
    const { mcp, h, client } = await setup({}, {}, { databaseUrl, encryptionKeys, config })
    await signIn(client, 'alice')
    expect(mcp.counts.get('registration')).toBe(1)
    // The client secret the AS issued is stored sealed, never as plaintext.
    const row = await new KyselyMcpStore(h.latchkey.store.db).getRegistration(mcp.issuer)
    const registered = await mcp.provider.Client.find(row!.client_id)
    expect(registered?.clientSecret).toBeTruthy()
    expect(row!.client_secret_enc).toBeTruthy()
    expect(row!.client_secret_enc).not.toContain(registered!.clientSecret!)
    await h.close()
    cleanups.splice(cleanups.indexOf(cleanups.at(-1)!), 1)

    const h2 = await startHarness({
      databaseUrl,
      encryptionKeys,
      config,
      providerEntries: () => [{ id: 'acme-mcp', type: 'mcp', mcp: { server_url: mcp.url } }],
    })
    cleanups.push(() => h2.close())
    const client2 = new LatchkeyClient({ apiKey: h2.apiKey, baseURL: config.publicUrl })
    const token = await signIn(client2, 'carol')
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are carol')
    expect(mcp.counts.get('registration')).toBe(1)
  })
})
