/**
 * MCP servers as providers (issue 13), end to end with real parts: an MCP server built with the
 * official SDK, protected by a real OAuth AS (oidc-provider), Latchkey in between, and the SDK's
 * own MCP client calling a tool with the token Latchkey hands out.
 */

import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Arcade from '@arcadeai/arcadejs'
import { Latchkey as LatchkeyClient } from '@latchkey/client'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { rotateEncryption } from '../../src/broker/rotate-encryption.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { KyselyMcpStore } from '../../src/storage/mcp-registrations.js'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { type McpTestOptions, type McpTestServer, startMcpServer } from '../helpers/mcp-server.js'
import { freePort, listenOnFreePort } from '../helpers/ports.js'
import { createTestDatabase, describePostgres, type TestDatabase } from '../helpers/postgres.js'

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

/** The user's MCP connection's token expires now: the next authorize refreshes it (the store's event drops it from the cache). */
async function makeDue(h: Harness, userId: string): Promise<void> {
  const connection = (await h.latchkey.store.getConnection(userId, 'acme-mcp'))!
  await h.latchkey.store.updateConnection(connection.id, { expires_at: Date.now() - 1000 })
}

/** Backdates the stored registration past the sign-in check's grace period (as if made two minutes ago). */
async function ageRegistration(h: Harness, issuer: string): Promise<void> {
  const store = new KyselyMcpStore(h.latchkey.store.db)
  const row = (await store.getRegistration(issuer))!
  await store.dropRegistration(issuer, row.client_id)
  await store.addRegistration({ ...row, created_at: Date.now() - 2 * 60_000 })
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

  it('keys rotate-encryption re-seals the registration secret: after a restart on the new key alone, no re-registration', async () => {
    const databaseUrl = join(await mkdtemp(join(tmpdir(), 'lk-mcp-rot-')), 'latchkey.db')
    const key1 = Keyring.generateKey()
    const key2 = Keyring.generateKey()
    const port = await freePort()
    const config = { port, publicUrl: `http://127.0.0.1:${port}` }
    const start = async (encryptionKeys: string) => {
      const h = await startHarness({
        databaseUrl,
        encryptionKeys,
        config,
        providerEntries: () => [{ id: 'acme-mcp', type: 'mcp', mcp: { server_url: mcp.url } }],
      })
      return { h, client: new LatchkeyClient({ apiKey: h.apiKey, baseURL: config.publicUrl }) }
    }
    const mcp = await startMcpServer()
    cleanups.push(() => mcp.close())
    const one = await start(`1:${key1}`)
    await signIn(one.client, 'alice')
    expect(mcp.counts.get('registration')).toBe(1)
    const sealed = async (h: Harness) => (await new KyselyMcpStore(h.latchkey.store.db).getRegistration(mcp.issuer))!.client_secret_enc!
    expect(Keyring.versionOf(await sealed(one.h))).toBe(1)
    await one.h.close()

    // Restart with the new key first, rotate, then restart with the new key alone.
    const two = await start(`2:${key2},1:${key1}`)
    const result = await rotateEncryption(two.h.latchkey.store, two.h.latchkey.ctx.vault)
    expect(result.skipped).toBe(0)
    expect(Keyring.versionOf(await sealed(two.h))).toBe(2)
    const clientId = (await new KyselyMcpStore(two.h.latchkey.store.db).getRegistration(mcp.issuer))!.client_id
    await two.h.close()

    const three = await start(`2:${key2}`)
    cleanups.push(() => three.h.close())
    const token = await signIn(three.client, 'bob')
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are bob')
    // The same registration, its secret opened under key 2: the AS saw no second registration.
    expect(mcp.counts.get('registration')).toBe(1)
    expect((await new KyselyMcpStore(three.h.latchkey.store.db).getRegistration(mcp.issuer))!.client_id).toBe(clientId)
  })

  it('deleting a connection revokes its tokens at the discovered revocation_endpoint (RFC 7009), as our client', async () => {
    const { mcp, h, client } = await setup()
    const token = await signIn(client, 'rita')
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are rita')
    const [connection] = (await client.admin.userConnections.list({ user_id: 'rita' })).items
    const r = await fetch(`${h.baseURL}/v1/admin/user_connections/${connection!.id}`, {
      method: 'DELETE',
      headers: { authorization: h.apiKey },
    })
    expect(r.status).toBe(204)
    expect(r.headers.get('x-latchkey-provider-revocation')).toBe('revoked')
    // The AS accepted our registered client's credentials and revoked the grant: the token no longer works.
    expect(mcp.counts.get('revocation')).toBe(1)
    await expect(callTool(mcp.url, token, 'whoami')).rejects.toThrow()
    expect(await new KyselyMcpStore(h.latchkey.store.db).getBinding(connection!.id)).toBeUndefined()
  })

  it('an authorization server without a revocation_endpoint: deleted locally, not_supported', async () => {
    const { mcp, h, client } = await setup({ metadata: { revocation_endpoint: undefined } })
    const token = await signIn(client, 'sam')
    const [connection] = (await client.admin.userConnections.list({ user_id: 'sam' })).items
    const r = await fetch(`${h.baseURL}/v1/admin/user_connections/${connection!.id}`, {
      method: 'DELETE',
      headers: { authorization: h.apiKey },
    })
    expect(r.status).toBe(204)
    expect(r.headers.get('x-latchkey-provider-revocation')).toBe('not_supported')
    expect(mcp.counts.get('revocation')).toBeUndefined()
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are sam')
  })

  it('a registration whose secret cannot be decrypted is replaced by a new registration', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'ola')
    const db = h.latchkey.store.db.withTables<{ mcp_client_registrations: { issuer: string; client_secret_enc: string | null } }>()
    const sealed = (await db.selectFrom('mcp_client_registrations').select('client_secret_enc').executeTakeFirst())!.client_secret_enc!
    // Another row's envelope: authenticated for another slot, so it does not open here.
    const foreign = h.latchkey.ctx.vault.seal({ table: 'mcp_client_registrations', id: 'https://elsewhere', field: 'client_secret' }, 'x')
    expect(foreign).not.toBe(sealed)
    await db.updateTable('mcp_client_registrations').set({ client_secret_enc: foreign }).execute()
    const token = await signIn(client, 'pia')
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are pia')
    expect(mcp.counts.get('registration')).toBe(2)
  })

  it('CIMD-capable server: client_id is our metadata document URL, fetched by the AS; no registration', async () => {
    const { mcp, h, client } = await setup({ cimd: true, dcr: false })
    const token = await signIn(client, 'dora')
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are dora')
    expect(mcp.counts.get('registration')).toBeUndefined()
    const documentUrl = `${h.baseURL}/oauth/client-metadata.json`
    expect(mcp.fetchedDocuments[0]).toMatchObject({
      client_id: documentUrl,
      client_name: 'Latchkey',
      redirect_uris: [`${h.baseURL}/oauth/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    })
    const served = await fetch(documentUrl)
    expect(served.headers.get('cache-control')).toBe('public, max-age=300')
  })

  it('a purged registration re-issued with the same client_id: invalid_client → one re-registration, the grant survives', async () => {
    // ASes that derive client ids from the metadata re-issue the same id, so the grant still matches.
    const { mcp, h, client } = await setup({ deterministicIds: true })
    await signIn(client, 'erin')
    expect(mcp.counts.get('registration')).toBe(1)
    mcp.purgeClients()
    // Due now: the refresh runs through authorize, as an agent's call would make it.
    await makeDue(h, 'erin')
    const refreshed = await client.auth.start('erin', 'acme-mcp')
    expect(refreshed.status).toBe('completed')
    expect(mcp.counts.get('registration')).toBe(2)
    expect(mcp.counts.get('grant:refresh_token')).toBe(1)
    // The user was not asked again: the refreshed token works at once.
    const again = await client.auth.start('erin', 'acme-mcp')
    expect(again.status).toBe('completed')
    expect(await callTool(mcp.url, again.context!.token!, 'whoami')).toBe('you are erin')
  })

  it('a purged registration, new client_id (the usual case): the old refresh token is invalid_grant → the user is asked again', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'ivo')
    mcp.purgeClients()
    // The token is due: authorize refreshes it, the AS rejects our client, Latchkey registers again
    // (a new client_id), and the grant, issued to the old client, is refused with it.
    await makeDue(h, 'ivo')
    const again = await client.auth.start('ivo', 'acme-mcp')
    expect(again.status).toBe('pending')
    expect(mcp.counts.get('registration')).toBe(2)
    expect(mcp.counts.get('grant:refresh_token')).toBeUndefined()
    expect((await h.latchkey.store.getConnection('ivo', 'acme-mcp'))!.status).toBe('reauth_required')
    // The person signs in once more, with the new registration; the tool works.
    const page = await new TestBrowser().authorize(again.url!, { login: 'ivo' })
    expect(page.body).toContain('Connected')
    const done = await client.auth.waitForCompletion(again, { timeoutMs: 10_000 })
    expect(await callTool(mcp.url, done.context!.token!, 'whoami')).toBe('you are ivo')
    expect(mcp.counts.get('registration')).toBe(2)
  })

  it('a purged registration does not block new sign-ins: two new users → one re-registration, both connected', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'uma')
    expect(mcp.counts.get('registration')).toBe(1)
    const before = (await h.latchkey.ctx.mcp.resolve(h.latchkey.ctx.registry.get('acme-mcp')!)).clientId
    await ageRegistration(h, mcp.issuer)
    mcp.purgeClients()
    // Both links opened at once: Latchkey notices the purge before sending anyone to the AS.
    const [a, b] = await Promise.all([client.auth.start('val', 'acme-mcp'), client.auth.start('wes', 'acme-mcp')])
    const browsers = [new TestBrowser(), new TestBrowser()]
    const [toAsA, toAsB] = await Promise.all([browsers[0]!.openLink(a.url!), browsers[1]!.openLink(b.url!)])
    expect(mcp.counts.get('registration')).toBe(2)
    const after = (await h.latchkey.ctx.mcp.resolve(h.latchkey.ctx.registry.get('acme-mcp')!)).clientId
    expect(after).not.toBe(before)
    for (const [i, toAs, started, login] of [
      [0, toAsA, a, 'val'],
      [1, toAsB, b, 'wes'],
    ] as const) {
      expect(new URL(toAs.location!).searchParams.get('client_id')).toBe(after)
      expect((await browsers[i]!.authorize(toAs.location!, { login })).body).toContain('Connected')
      const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
      expect(await callTool(mcp.url, done.context!.token!, 'whoami')).toBe(`you are ${login}`)
    }
    expect(mcp.counts.get('registration')).toBe(2)
  })

  it('a registration made moments ago is not checked at sign-in: a new client the AS has not propagated is kept', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'abe')
    expect(mcp.counts.get('registration')).toBe(1)
    // The sign-in that registered did not check the client it had just registered.
    expect(mcp.counts.get('grant_error:refresh_token')).toBeUndefined()
    const registered = (await h.latchkey.ctx.mcp.resolve(h.latchkey.ctx.registry.get('acme-mcp')!)).clientId
    // The AS does not know the new client yet (propagation delay): a check would answer invalid_client.
    mcp.rejectNextTokenRequests(2)
    const started = await client.auth.start('bea', 'acme-mcp')
    const browser = new TestBrowser()
    const toAs = await browser.openLink(started.url!)
    expect(new URL(toAs.location!).searchParams.get('client_id')).toBe(registered)
    expect(mcp.counts.get('spurious_invalid_client')).toBeUndefined()
    expect(mcp.counts.get('registration')).toBe(1)
    mcp.rejectNextTokenRequests(0)
    expect((await browser.authorize(toAs.location!, { login: 'bea' })).body).toContain('Connected')
    const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    expect(await callTool(mcp.url, done.context!.token!, 'whoami')).toBe('you are bea')
  })

  it('a good check is remembered: sign-ins one after another check an older registration once', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'cid')
    await ageRegistration(h, mcp.issuer)
    for (const userId of ['dov', 'eli', 'fox']) {
      const started = await client.auth.start(userId, 'acme-mcp')
      const toAs = await new TestBrowser().openLink(started.url!)
      expect(toAs.location).toContain('client_id=')
    }
    // One check (a refresh grant with a random token: invalid_grant), not one per sign-in.
    expect(mcp.counts.get('grant_error:refresh_token')).toBe(1)
    expect(mcp.counts.get('registration')).toBe(1)
  })

  it('a check the AS does not answer (503) lets the sign-in go ahead and is not remembered: the next sign-in checks again', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'gus')
    await ageRegistration(h, mcp.issuer)
    mcp.failNextTokenRequests(1)
    for (const userId of ['hal', 'ida']) {
      const started = await client.auth.start(userId, 'acme-mcp')
      const toAs = await new TestBrowser().openLink(started.url!)
      expect(toAs.location).toContain('client_id=')
    }
    expect(mcp.counts.get('unavailable_token')).toBe(1)
    // The second sign-in asked again (and got invalid_grant: known); nothing was dropped.
    expect(mcp.counts.get('grant_error:refresh_token')).toBe(1)
    expect(mcp.counts.get('registration')).toBe(1)
  })

  it('one spurious invalid_client does not drop the shared registration: connections keep refreshing', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'gus')
    await ageRegistration(h, mcp.issuer)
    const before = (await h.latchkey.ctx.mcp.resolve(h.latchkey.ctx.registry.get('acme-mcp')!)).clientId
    // One wrong answer (a replica that lags): the check asks again, the AS knows the client.
    mcp.rejectNextTokenRequests(1)
    await signIn(client, 'hal')
    expect(mcp.counts.get('spurious_invalid_client')).toBe(1)
    expect(mcp.counts.get('registration')).toBe(1)
    expect((await h.latchkey.ctx.mcp.resolve(h.latchkey.ctx.registry.get('acme-mcp')!)).clientId).toBe(before)
    // gus's grant still belongs to the stored client: a due token refreshes without asking him again.
    await makeDue(h, 'gus')
    const refreshed = await client.auth.start('gus', 'acme-mcp')
    expect(refreshed.status).toBe('completed')
    expect(mcp.counts.get('grant:refresh_token')).toBe(1)
    expect(await callTool(mcp.url, refreshed.context!.token!, 'whoami')).toBe('you are gus')
  })

  it('purged between consent and code exchange: invalid_client fails that flow (try again), the next sign-in re-registers once', async () => {
    const { mcp, client } = await setup()
    await signIn(client, 'xia')
    const [a, b] = await Promise.all([client.auth.start('yan', 'acme-mcp'), client.auth.start('zed', 'acme-mcp')])
    // Both people reach the AS with the old client; it is purged just before the first code exchange.
    const browsers = [new TestBrowser(), new TestBrowser()]
    const toAs = await Promise.all([browsers[0]!.openLink(a.url!), browsers[1]!.openLink(b.url!)])
    mcp.purgeBeforeNextTokenRequest()
    const pages = await Promise.all([
      browsers[0]!.authorize(toAs[0]!.location!, { login: 'yan' }),
      browsers[1]!.authorize(toAs[1]!.location!, { login: 'zed' }),
    ])
    for (const page of pages) expect(page.body).not.toContain('Connected')
    for (const started of [a, b]) {
      const failed = (await client.auth.waitForCompletion(started, { timeoutMs: 10_000 }).catch((e: unknown) => e)) as {
        reason: string
        message: string
      }
      expect(failed.reason).toBe('exchange_failed')
      expect(failed.message).toMatch(/no longer knows Latchkey's registration.*start the sign-in again/)
    }
    expect(mcp.counts.get('registration')).toBe(1)
    // The next people: one new registration between them, and they sign in.
    await Promise.all([signIn(client, 'yan'), signIn(client, 'zed')])
    expect(mcp.counts.get('registration')).toBe(2)
  })

  it('purged between consent and code exchange while the registration cannot be dropped: the flow still fails (try again)', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'ada')
    const started = await client.auth.start('bea', 'acme-mcp')
    const browser = new TestBrowser()
    const toAs = await browser.openLink(started.url!)
    mcp.purgeBeforeNextTokenRequest()
    // The database refuses the drop (an outage at that moment): the callback must not answer 500 and leave the flow pending.
    const drop = vi.spyOn(h.latchkey.ctx.mcp, 'invalidateClient').mockRejectedValueOnce(new Error('database unavailable'))
    const page = await browser.authorize(toAs.location!, { login: 'bea' })
    expect(drop).toHaveBeenCalledTimes(1)
    expect(page.status).not.toBe(500)
    expect(page.body).not.toContain('Connected')
    const failed = (await client.auth.waitForCompletion(started, { timeoutMs: 10_000 }).catch((e: unknown) => e)) as { reason: string }
    expect(failed.reason).toBe('exchange_failed')
    drop.mockRestore()
  })

  it('step-up on 403 insufficient_scope: the union of granted and challenged scopes, then the tool works', async () => {
    // The challenge names only the missing scope: mcp:read (granted) must come from Latchkey's union.
    const { mcp, h, client } = await setup({ stepUpChallenge: 'mcp:write' })
    const token = await signIn(client, 'fay')
    await expect(callTool(mcp.url, token, 'write', { text: 'x' })).rejects.toThrow()
    expect(mcp.counts.get('mcp:403')).toBe(1)

    // The documented recipe: the SDK's fetch helper turns the 403 into a step-up authorization.
    const { latchkeyMcpFetch, McpAuthorizationRequired } = await import('@latchkey/client')
    const f = latchkeyMcpFetch(client, 'fay', 'acme-mcp', { serverUrl: mcp.url })
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write', arguments: { text: 'x' } } })
    const init = { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }
    const err = (await f(mcp.url, init).catch((e: unknown) => e)) as InstanceType<typeof McpAuthorizationRequired>
    expect(err).toBeInstanceOf(McpAuthorizationRequired)
    expect(err.authorization.status).toBe('pending')
    const browser = new TestBrowser()
    const toAs = await browser.openLink(err.authorization.url!)
    expect(new URL(toAs.location!).searchParams.get('scope')!.split(' ').sort()).toEqual(['mcp:read', 'mcp:write', 'offline_access'])
    await browser.authorize(toAs.location!, { login: 'fay' })
    const done = await client.auth.waitForCompletion(err.authorization, { timeoutMs: 10_000 })
    expect(done.scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']))
    expect(await callTool(mcp.url, done.context!.token!, 'write', { text: 'x' })).toBe('wrote x')
    const ok = await f(mcp.url, init)
    expect(ok.status).toBe(200)
    void h
  })

  it('latchkeyMcpFetch gives up after maxStepUps step-ups when the server keeps asking for a scope never granted', async () => {
    // The AS does not know mcp:admin: a step-up for it completes without it, and the server asks again.
    const { mcp, client } = await setup({ writeScope: 'mcp:admin', stepUpChallenge: 'mcp:admin' })
    await signIn(client, 'gil')
    const { latchkeyMcpFetch, McpAuthorizationRequired, McpStepUpLimitExceeded } = await import('@latchkey/client')
    const f = latchkeyMcpFetch(client, 'gil', 'acme-mcp', { serverUrl: mcp.url, maxStepUps: 2 })
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write', arguments: { text: 'x' } } })
    const init = { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }
    const ids = new Set<string>()
    for (let i = 0; i < 2; i++) {
      const err = (await f(mcp.url, init).catch((e: unknown) => e)) as InstanceType<typeof McpAuthorizationRequired>
      expect(err).toBeInstanceOf(McpAuthorizationRequired)
      // Retried before the person finished: the same authorization, not another step-up.
      const retried = (await f(mcp.url, init).catch((e: unknown) => e)) as InstanceType<typeof McpAuthorizationRequired>
      expect(retried.authorization.id).toBe(err.authorization.id)
      ids.add(err.authorization.id!)
      await new TestBrowser().authorize(err.authorization.url!, { login: 'gil' })
      // Completed with the scopes granted so far: the server still asks for mcp:admin, never granted.
      expect((await client.auth.waitForCompletion(err.authorization, { timeoutMs: 10_000 })).status).toBe('completed')
    }
    expect(ids.size).toBe(2)
    const limit = await f(mcp.url, init).catch((e: unknown) => e)
    expect(limit).toBeInstanceOf(McpStepUpLimitExceeded)
    expect((limit as Error).message).toMatch(/mcp:admin after 2 step-up authorizations; giving up/)
  })

  it('latchkeyMcpFetch sends the token only to its MCP server: another origin or path throws, nothing is sent', async () => {
    const { mcp, client } = await setup()
    await signIn(client, 'hub')
    const { latchkeyMcpFetch } = await import('@latchkey/client')
    const seen: string[] = []
    const spy: typeof fetch = async (input, init) => {
      seen.push(String(input))
      return fetch(input, init)
    }
    const f = latchkeyMcpFetch(client, 'hub', 'acme-mcp', { serverUrl: mcp.url, fetch: spy })
    const origin = new URL(mcp.url).origin
    for (const elsewhere of [
      'http://127.0.0.1:1/mcp',
      `${origin}/other`,
      `${origin}/mcpx`,
      `http://localhost:${new URL(mcp.url).port}/mcp`,
    ]) {
      await expect(f(elsewhere, { method: 'POST' })).rejects.toThrow(/refusing to send acme-mcp's token to .* not the MCP server/)
    }
    expect(seen).toEqual([])
    // Its own URL (and below it, and as a Request) works.
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
    expect((await f(mcp.url, { method: 'POST', body, headers })).status).toBe(200)
    expect((await f(new Request(mcp.url, { method: 'POST', body, headers }))).status).toBe(200)
    expect((await f(`${mcp.url}/sub`, { method: 'POST', body, headers })).status).not.toBe(401)
  })

  it('latchkeyMcpFetch follows no redirect: a same-origin redirect out of the server path does not carry the token', async () => {
    const { client } = await setup()
    await signIn(client, 'ivy')
    const { latchkeyMcpFetch } = await import('@latchkey/client')
    // A server whose /mcp redirects to /leak on the same origin, and records who arrives there with a token.
    const leaked: string[] = []
    const asked: string[] = []
    const redirecting = createServer((req, res) => {
      asked.push(req.url ?? '')
      if (req.url === '/mcp') return void res.writeHead(302, { location: '/leak' }).end()
      if (req.headers.authorization) leaked.push(req.headers.authorization)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
    const port = await listenOnFreePort(redirecting)
    try {
      const f = latchkeyMcpFetch(client, 'ivy', 'acme-mcp', { serverUrl: `http://127.0.0.1:${port}/mcp` })
      const err = (await f(`http://127.0.0.1:${port}/mcp`, { method: 'POST', body: '{}' }).catch((e: unknown) => e)) as Error & {
        cause?: unknown
      }
      // Refused at the redirect (fetch's redirect: 'error'), not some other failure.
      expect(String(err.cause ?? err)).toMatch(/redirect/i)
      expect(asked).toEqual(['/mcp'])
      expect(leaked).toEqual([])
    } finally {
      await new Promise<void>((resolve) => redirecting.close(() => resolve()))
    }
  })

  it("discovery follows the challenge's resource_metadata (not a well-known path); its scope, else scopes_supported, is asked for", async () => {
    const opts = { prmPath: '/meta/acme-prm.json', prmScopes: ['mcp:read', 'mcp:write'] }
    const asked = async (o: McpTestOptions, user: string) => {
      const { mcp, client } = await setup({ ...opts, ...o })
      const started = await client.auth.start(user, 'acme-mcp')
      const toAs = await new TestBrowser().openLink(started.url!)
      // Only the URL the challenge named was asked (the well-known paths answer 404 here).
      expect(mcp.counts.get('prm:/meta/acme-prm.json')).toBe(1)
      return new URL(toAs.location!).searchParams.get('scope')!.split(' ').sort()
    }
    expect(await asked({ challengeScope: 'mcp:read' }, 'ann')).toEqual(['mcp:read', 'offline_access'])
    expect(await asked({ challengeScope: null }, 'ben')).toEqual(['mcp:read', 'mcp:write', 'offline_access'])
  })

  it('rotating refresh tokens under 100 concurrent reads: exactly one refresh', async () => {
    const { mcp, h, client } = await setup({ rotateRefreshToken: true })
    const first = await signIn(client, 'gus')
    await makeDue(h, 'gus')
    const answers = await Promise.all(Array.from({ length: 100 }, () => client.auth.start('gus', 'acme-mcp')))
    expect(answers.every((a) => a.status === 'completed')).toBe(true)
    const tokens = new Set(answers.map((a) => a.context!.token))
    expect(tokens.size).toBe(1)
    expect(tokens.has(first)).toBe(false)
    expect(mcp.counts.get('grant:refresh_token')).toBe(1)
    // Every refresh-token request carried resource (the sign-in's registration check is one too).
    const refreshes = mcp.resources.filter((r) => r.endpoint === 'token:refresh_token')
    expect(refreshes.length).toBeGreaterThan(0)
    expect(refreshes.every((r) => r.resource === mcp.url)).toBe(true)
    expect(await callTool(mcp.url, [...tokens][0]!, 'whoami')).toBe('you are gus')
  })

  it('a server that rejects resource: the flow fails with its error; resource_parameter: false works', async () => {
    const rejecting = await setup({ rejectResource: true })
    const started = await rejecting.client.auth.start('hal', 'acme-mcp')
    await new TestBrowser().authorize(started.url!, { login: 'hal' })
    const failed = await rejecting.client.auth.waitForCompletion(started, { timeoutMs: 10_000 }).catch((e: unknown) => e)
    expect((failed as { reason?: string }).reason).toBe('provider_error')

    const optedOut = await setup({ rejectResource: true }, { resource_parameter: false })
    const token = await signIn(optedOut.client, 'hal')
    expect(optedOut.mcp.resources.every((r) => r.resource === null)).toBe(true)
    expect(await callTool(optedOut.mcp.url, token, 'whoami')).toBe('you are hal')
  })
})

describe('MCP providers through the admin API and on PostgreSQL', () => {
  it('POST /v1/admin/auth_providers declares an MCP server; an agent then signs a user in', async () => {
    const { mcp, h, client } = await setup()
    const r = await fetch(`${h.baseURL}/v1/admin/auth_providers`, {
      method: 'POST',
      headers: { authorization: h.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'admin-mcp', type: 'mcp', description: 'Admin MCP', mcp: { server_url: `${mcp.url}/` } }),
    })
    expect(r.status).toBe(201)
    // Arcade's response shape (type oauth2), with the MCP server as Latchkey's extension; the URL canonical.
    expect(await r.json()).toMatchObject({ id: 'admin-mcp', type: 'oauth2', mcp: { server_url: mcp.url, resource_parameter: true } })
    const started = await client.auth.start('lee', 'admin-mcp')
    expect(started.status).toBe('pending')
    await new TestBrowser().authorize(started.url!, { login: 'lee' })
    const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    expect(await callTool(mcp.url, done.context!.token!, 'whoami')).toBe('you are lee')
  })
})

describe("Arcade's JS SDK against an MCP provider", () => {
  it('auth.start → pending → waitForCompletion → completed; the token works with the MCP client; again completed at once', async () => {
    const { mcp, h } = await setup()
    const arcade = new Arcade({ apiKey: h.apiKey, baseURL: h.baseURL })
    const started = await arcade.auth.start('arc@example.com', 'acme-mcp')
    expect(started.status).toBe('pending')
    expect(started.provider_id).toBe('acme-mcp')
    const waiting = arcade.auth.waitForCompletion(started)
    expect((await new TestBrowser().authorize(started.url!, { login: 'arc' })).body).toContain('Connected')
    const done = await waiting
    expect(done.status).toBe('completed')
    expect(done.scopes).toEqual(expect.arrayContaining(['mcp:read']))
    expect(await callTool(mcp.url, done.context!.token!, 'whoami')).toBe('you are arc')
    const again = await arcade.auth.start('arc@example.com', 'acme-mcp')
    expect(again.status).toBe('completed')
    expect(again.context?.token).toBe(done.context!.token)
  })

  it('auth.authorize with auth_requirement.mcp.server_url (a dynamic server) goes through the SDK unchanged', async () => {
    const mcp = await startMcpServer()
    cleanups.push(() => mcp.close())
    const h = await startHarness({ env: { LATCHKEY_MCP_DYNAMIC_ORIGINS: new URL(mcp.url).origin }, providerEntries: () => [] })
    cleanups.push(() => h.close())
    const arcade = new Arcade({ apiKey: h.apiKey, baseURL: h.baseURL })
    // Arcade's types do not list `mcp`; the SDK sends the body as given.
    const auth_requirement = { provider_type: 'oauth2', mcp: { server_url: mcp.url } } as Parameters<
      typeof arcade.auth.authorize
    >[0]['auth_requirement']
    const started = await arcade.auth.authorize({ user_id: 'dyn@example.com', auth_requirement })
    expect(started.status).toBe('pending')
    expect(started.provider_id).toMatch(/^mcp-[0-9a-f]{24}$/)
    const waiting = arcade.auth.waitForCompletion(started)
    await new TestBrowser().authorize(started.url!, { login: 'dyn' })
    const done = await waiting
    expect(await callTool(mcp.url, done.context!.token!, 'whoami')).toBe('you are dyn')
  })
})

describe('MCP servers named by the app at authorize time', () => {
  it('an allowed origin becomes a provider (one per server URL); another origin is a 400', async () => {
    const mcp = await startMcpServer()
    cleanups.push(() => mcp.close())
    const h = await startHarness({ env: { LATCHKEY_MCP_DYNAMIC_ORIGINS: new URL(mcp.url).origin }, providerEntries: () => [] })
    cleanups.push(() => h.close())
    const authorize = (serverUrl: string, userId: string) =>
      fetch(`${h.baseURL}/v1/auth/authorize`, {
        method: 'POST',
        headers: { authorization: h.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: userId, auth_requirement: { provider_type: 'oauth2', mcp: { server_url: serverUrl } } }),
      })
    const r = await authorize(`${mcp.url}/`, 'quinn')
    expect(r.status).toBe(200)
    const started = (await r.json()) as { id: string; status: string; url: string; provider_id: string }
    expect(started.status).toBe('pending')
    expect(started.provider_id).toMatch(/^mcp-[0-9a-f]{24}$/)
    await new TestBrowser().authorize(started.url, { login: 'quinn' })
    const client = new LatchkeyClient({ apiKey: h.apiKey, baseURL: h.baseURL })
    const done = await client.auth.waitForCompletion(started.id, { timeoutMs: 10_000 })
    expect(await callTool(mcp.url, done.context!.token!, 'whoami')).toBe('you are quinn')
    // Named again (or by its provider id): the same provider, answered at once.
    const again = (await (await authorize(mcp.url, 'quinn')).json()) as { status: string; provider_id: string }
    expect(again).toMatchObject({ status: 'completed', provider_id: started.provider_id })
    expect((await client.auth.start('quinn', started.provider_id)).status).toBe('completed')
    // Stored like an admin provider, so a restart or another process knows it.
    expect((await h.latchkey.store.listProviders()).map((p) => p.id)).toEqual([started.provider_id])

    const refused = await authorize('https://mcp.elsewhere.example/mcp', 'quinn')
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { message: string }).message).toMatch(/LATCHKEY_MCP_DYNAMIC_ORIGINS/)
  })
})

describePostgres('MCP registrations on PostgreSQL', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => db?.drop())

  it('stores one registration per issuer and the flow/connection bindings', async () => {
    const { mcp, h, client } = await setup({}, {}, { databaseUrl: db.url })
    const token = await signIn(client, 'max')
    expect(await callTool(mcp.url, token, 'whoami')).toBe('you are max')
    await signIn(client, 'ned')
    expect(mcp.counts.get('registration')).toBe(1)
    const store = new KyselyMcpStore(h.latchkey.store.db)
    const connection = (await h.latchkey.store.getConnection('max', 'acme-mcp'))!
    expect(await store.getBinding(connection.id)).toMatchObject({ issuer: mcp.issuer, resource: mcp.url })
    const row = (await store.getRegistration(mcp.issuer))!
    // A second writer loses: the stored registration stays.
    expect((await store.addRegistration({ ...row, client_id: 'other' })).client_id).toBe(row.client_id)
    expect(await store.dropRegistration(mcp.issuer, 'other')).toBe(false)
    expect(await store.dropRegistration(mcp.issuer, row.client_id)).toBe(true)
    // The binding goes with its connection, in the store's own delete (any path that deletes it).
    expect(await h.latchkey.store.deleteConnection(connection.id)).toBe(true)
    expect(await store.getBinding(connection.id)).toBeUndefined()
  })
})

describe('MCP mix-ups', () => {
  it('an authorization response whose iss is not the issuer is refused before the code is redeemed', async () => {
    const { mcp, client } = await setup({ responseIss: 'http://127.0.0.1:1' })
    const started = await client.auth.start('jo', 'acme-mcp')
    const page = await new TestBrowser().authorize(started.url!, { login: 'jo' })
    expect(page.body).not.toContain('Connected')
    const failed = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 }).catch((e: unknown) => e)
    expect((failed as { reason?: string }).reason).toBe('exchange_failed')
    expect(mcp.counts.get('grant:authorization_code')).toBeUndefined()
  })

  it('iss advertised (authorization_response_iss_parameter_supported) but absent from the response: refused', async () => {
    const { mcp, h, client } = await setup({ dropIss: true })
    const resolved = await h.latchkey.ctx.mcp.resolve(h.latchkey.ctx.registry.get('acme-mcp')!)
    expect(resolved.discovery.as.authorization_response_iss_parameter_supported).toBe(true)
    const started = await client.auth.start('lou', 'acme-mcp')
    const browser = new TestBrowser()
    const toAs = await browser.openLink(started.url!)
    const back = await browser.authorize(toAs.location!, { login: 'lou', stopAt: (u) => u.pathname === '/oauth/callback' })
    const callback = new URL(back.location!)
    expect(callback.searchParams.get('code')).toBeTruthy()
    expect(callback.searchParams.has('iss')).toBe(false)
    const page = await browser.request(callback.toString())
    expect(page.body).not.toContain('Connected')
    const failed = (await client.auth.waitForCompletion(started, { timeoutMs: 10_000 }).catch((e: unknown) => e)) as { reason?: string }
    expect(failed.reason).toBe('exchange_failed')
    expect(mcp.counts.get('grant:authorization_code')).toBeUndefined()
  })

  it('a server that now names another authorization server: the refresh token is not sent there', async () => {
    const { mcp, h, client } = await setup()
    await signIn(client, 'kim')
    const other = await startMcpServer()
    cleanups.push(() => other.close())
    mcp.moveTo(other.issuer)
    h.latchkey.ctx.mcp.forgetDiscovery(h.latchkey.ctx.registry.get('acme-mcp')!)
    const connection = (await h.latchkey.store.getConnection('kim', 'acme-mcp'))!
    const outcome = await h.latchkey.ctx.refresher.refresh(connection.id, { force: true })
    expect(outcome.kind).toBe('reauth_required')
    expect(other.resources.filter((r) => r.endpoint.startsWith('token'))).toEqual([])
    expect(mcp.counts.get('grant:refresh_token')).toBeUndefined()
    // The new authorization server gets its own registration (credentials are per issuer).
    expect(other.counts.get('registration')).toBe(1)
    expect(mcp.counts.get('registration')).toBe(1)
  })
})

describe('hostile MCP metadata is refused before anyone signs in', () => {
  const refused = async (options: McpTestOptions, message: RegExp) => {
    const { h, mcp } = await setup(options)
    const client = new LatchkeyClient({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
    const err = (await client.auth.start('ivy', 'acme-mcp').catch((e: unknown) => e)) as { status: number; code: string; message: string }
    expect(err.status).toBe(502)
    expect(err.code).toBe('MCP_SERVER_REFUSED')
    expect(err.message).toMatch(message)
    expect(mcp.counts.get('registration')).toBeUndefined()
  }

  it('an authorization server at an internal (metadata) address', () =>
    refused({ prmAuthorizationServer: 'http://169.254.169.254/latest' }, /outbound request refused/))
  it('metadata whose issuer is not the one asked for', () => refused({ metadata: { issuer: 'http://127.0.0.1:1/other' } }, /issuer/))
  it('no PKCE S256 advertised', () => refused({ metadata: { code_challenge_methods_supported: undefined } }, /PKCE S256/))
  it('a token endpoint on another origin', () =>
    refused({ metadata: { token_endpoint: 'https://evil.example/token' } }, /token_endpoint .* is not on the issuer's origin/))
})
