/**
 * Encryption key rotation end to end, on one SQLite file, as an operator does it: connect users
 * under key 1, restart with `2:<new>,1:<old>`, re-encrypt online (interrupted half way, then
 * resumed, with a refresh racing it), restart with key 2 alone — and every user keeps a working
 * token throughout. Also: a wrong key is refused at start, and the CLI command does the job.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Latchkey as LatchkeyClient } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rotateEncryption } from '../../src/broker/rotate-encryption.js'
import { type SecretSlot, Vault } from '../../src/broker/vault.js'
import { loadConfig } from '../../src/config.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey, type Latchkey } from '../../src/server.js'
import { openStore } from '../../src/storage/open-store.js'
import type { Store } from '../../src/storage/store.js'
import { TestBrowser } from '../helpers/browser.js'
import { startTestIdp, type TestIdp } from '../helpers/oidc-server.js'
import { freePort } from '../helpers/ports.js'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const TABLES = ['connections', 'flows', 'providers'] as const
const SLOT_FIELD: Record<string, SecretSlot['field']> = {
  access_token_enc: 'access_token',
  refresh_token_enc: 'refresh_token',
  code_verifier_enc: 'code_verifier',
  grant_enc: 'grant',
  state_enc: 'state',
  client_secret_enc: 'client_secret',
}

interface Envelope {
  table: (typeof TABLES)[number]
  id: string
  column: string
  envelope: string
  slot: SecretSlot
}

/** Every stored secret envelope, read through the store (the rows the rotation walks). */
async function envelopes(store: Store): Promise<Envelope[]> {
  const out: Envelope[] = []
  for (const table of TABLES) {
    for (const row of await store.listSecrets(table, '', 100_000)) {
      for (const [column, envelope] of Object.entries(row.fields)) {
        if (envelope === null) continue
        out.push({ table, id: row.id, column, envelope, slot: { table, id: row.id, field: SLOT_FIELD[column]! } as SecretSlot })
      }
    }
  }
  return out
}

const versions = (list: Envelope[]) => list.map((e) => Keyring.versionOf(e.envelope))

describe('encryption key rotation on a SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-rotation-'))
  const dbFile = join(dir, 'latchkey.db')
  const key1 = Keyring.generateKey()
  const key2 = Keyring.generateKey()
  const key3 = Keyring.generateKey()
  let port: number
  let publicUrl: string
  let idp: TestIdp
  let lk: Latchkey | undefined
  let apiKey: string
  /** While true, the network boundary drops refresh tokens from code exchanges (users without one). */
  let withoutRefreshToken = false
  /** user → [provider, token handed out at connection time, has refresh token] */
  const users = new Map<string, { provider: string; token: string; refresh: boolean }>()
  const pendingFlowUrls: string[] = []

  const providerFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (!withoutRefreshToken || !String(init?.body ?? '').includes('grant_type=authorization_code') || !response.ok) return response
    const json = (await response.json()) as Record<string, unknown>
    delete json['refresh_token']
    return new Response(JSON.stringify(json), { status: 200, headers: { 'content-type': 'application/json' } })
  }

  function configFor(keys: string) {
    return loadConfig({
      cwd: dir,
      env: { LATCHKEY_VERIFICATION: 'browser', LATCHKEY_BACKGROUND_REFRESH: 'false', LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.0/8' },
      overrides: {
        host: '127.0.0.1',
        port,
        publicUrl,
        databaseUrl: dbFile,
        encryptionKeys: keys,
        providerEntries: [idp.entry()],
        allowInsecureLoopbackProviders: true,
        configFile: undefined,
        rateLimit: { perMinute: 0 },
      },
    })
  }

  /** Starts Latchkey on the same port and database file (a process restart with new settings). */
  async function boot(keys: string): Promise<Latchkey> {
    if (lk) {
      await lk.close()
      // Let the clients' keep-alive pools see the old server's sockets close before reusing the port.
      await new Promise((r) => setTimeout(r, 50))
    }
    lk = await createLatchkey(configFor(keys), { logger: createLogger('silent'), fetch: providerFetch })
    await lk.listen()
    return lk
  }

  const client = () => new LatchkeyClient({ apiKey, baseURL: publicUrl, maxRetries: 0 })
  const meStatus = async (token: string) => (await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })).status

  async function connect(user: string, provider: string, refresh: boolean) {
    withoutRefreshToken = !refresh
    try {
      const started = await client().auth.start(user, provider, { scopes: ['openid', 'profile'] })
      expect(started.status).toBe('pending')
      await new TestBrowser().authorize(started.url!, { login: user })
      const done = await client().auth.waitForCompletion(started, { timeoutMs: 10_000 })
      users.set(user, { provider, token: done.context!.token!, refresh })
    } finally {
      withoutRefreshToken = false
    }
  }

  /** Every user gets `completed` with a token the IdP accepts; unchanged unless `allowNew`. */
  async function expectUsersServed(allowNew: Set<string> = new Set()) {
    for (const [user, u] of users) {
      const r = await client().auth.start(user, u.provider, { scopes: ['openid'] })
      expect(r.status, user).toBe('completed')
      const token = r.context!.token!
      if (!allowNew.has(user)) expect(token, user).toBe(u.token)
      expect(await meStatus(token), user).toBe(200)
      u.token = token
    }
  }

  async function expectAllDecrypt(vault: Vault) {
    const list = await envelopes(lk!.store)
    for (const e of list) expect(() => vault.open(e.slot, e.envelope), `${e.table}.${e.id}.${e.column}`).not.toThrow()
    return list
  }

  beforeAll(async () => {
    port = await freePort()
    publicUrl = `http://127.0.0.1:${port}`
    idp = await startTestIdp({ redirectUri: `${publicUrl}/oauth/callback` })
    lk = await boot(`1:${key1}`)
    apiKey = lk.initialApiKey!
    // A provider managed through the admin API: its client secret is stored encrypted.
    const created = await fetch(`${publicUrl}/v1/admin/auth_providers`, {
      method: 'POST',
      headers: { authorization: apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(idp.entry('admin-idp')),
    })
    expect(created.status, await created.clone().text()).toBe(201)
    await connect('ann', 'test-idp', true)
    await connect('bob', 'test-idp', true)
    await connect('cyd', 'test-idp', false)
    await connect('dee', 'test-idp', true)
    await connect('eve', 'test-idp', false)
    await connect('fay', 'admin-idp', true)
    await connect('gus', 'admin-idp', false)
    // Pending flows hold an encrypted PKCE verifier.
    for (const user of ['pending-1', 'pending-2'])
      pendingFlowUrls.push((await client().auth.start(user, 'test-idp', { scopes: ['openid'] })).url!)
  }, 60_000)

  afterAll(async () => {
    await lk?.close()
    await idp?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('has secrets in all three tables, all under key 1', async () => {
    const list = await envelopes(lk!.store)
    const tables = new Set(list.map((e) => e.table))
    expect([...tables].sort()).toEqual(['connections', 'flows', 'providers'])
    const connections = (await lk!.store.listConnections({}, 100, 0)).items
    expect(connections.length).toBeGreaterThanOrEqual(5)
    expect(connections.filter((c) => c.refresh_token_enc !== null).length).toBe(4)
    expect(connections.filter((c) => c.refresh_token_enc === null).length).toBe(3)
    expect(new Set(versions(list))).toEqual(new Set([1]))
  })

  it('after a restart with 2:<new>,1:<old>, new writes use key 2 and old rows still decrypt', async () => {
    await boot(`2:${key2},1:${key1}`)
    const started = await client().auth.start('pending-3', 'test-idp', { scopes: ['openid'] })
    pendingFlowUrls.push(started.url!)
    const flow = (await lk!.store.getFlow(started.id!))!
    expect(Keyring.versionOf(flow.code_verifier_enc!)).toBe(2)
    await expectAllDecrypt(lk!.ctx.vault)
    await expectUsersServed()
  })

  it('an interrupted rotation leaves every row readable, some on key 2 and some on key 1', async () => {
    const abort = new AbortController()
    const progress: Array<{ table: string; scanned: number; rewritten: number }> = []
    const run = rotateEncryption(lk!.store, lk!.ctx.vault, {
      batchSize: 2,
      signal: abort.signal,
      onProgress: (p) => {
        progress.push(p)
        abort.abort()
      },
    })
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(progress).toEqual([{ table: 'connections', scanned: 2, rewritten: 2 }])

    // A fresh two-key vault (as another process would build it) reads every row.
    const list = await expectAllDecrypt(new Vault(Keyring.parse(`2:${key2},1:${key1}`)))
    const v = versions(list)
    expect(v.filter((x) => x === 2).length).toBeGreaterThan(0)
    expect(v.filter((x) => x === 1).length).toBeGreaterThan(0)
    // The first two connections (by id) are fully on key 2, the others still on key 1.
    const conns = list.filter((e) => e.table === 'connections')
    const ids = [...new Set(conns.map((e) => e.id))].sort()
    for (const e of conns) expect(Keyring.versionOf(e.envelope), e.id).toBe(ids.indexOf(e.id) < 2 ? 2 : 1)
    await expectUsersServed()
  })

  it('resumes to completion while a refresh races it; the refreshed token is the one stored', async () => {
    // A connection with a refresh token that the interrupted run did not reach (still on key 1).
    const conns = (await lk!.store.listConnections({}, 100, 0)).items.sort((a, b) => (a.id < b.id ? -1 : 1))
    const target = conns.slice(2).find((c) => c.refresh_token_enc !== null)!
    expect(Keyring.versionOf(target.access_token_enc)).toBe(1)
    const before = lk!.ctx.vault.open({ table: 'connections', id: target.id, field: 'access_token' }, target.access_token_enc)

    // The refresh holds its call at the IdP while the rotation rewrites the row under it.
    idp.tokenDelayMs = 300
    const received = idp.tokenRequestsReceived
    const refresh = lk!.ctx.refresher.refresh(target.id, { force: true })
    while (idp.tokenRequestsReceived === received) await new Promise((r) => setTimeout(r, 5))
    const result = await rotateEncryption(lk!.store, lk!.ctx.vault, { batchSize: 2 })
    const outcome = await refresh
    idp.tokenDelayMs = 0

    expect(result.skipped).toBe(0)
    expect(result.rewritten).toBeGreaterThan(0)
    expect(outcome.kind).toBe('fresh')
    const refreshed = lk!.ctx.vault.open(
      { table: 'connections', id: target.id, field: 'access_token' },
      (outcome as { connection: { access_token_enc: string } }).connection.access_token_enc,
    )
    expect(refreshed).not.toBe(before)
    const stored = (await lk!.store.getConnectionById(target.id))!
    expect(lk!.ctx.vault.open({ table: 'connections', id: target.id, field: 'access_token' }, stored.access_token_enc)).toBe(refreshed)
    expect(Keyring.versionOf(stored.access_token_enc)).toBe(2)
    expect(await meStatus(refreshed)).toBe(200)

    // The refresh wrote after the rotation passed: a second run finds nothing left to do.
    const again = await rotateEncryption(lk!.store, lk!.ctx.vault, { batchSize: 2 })
    expect(again).toMatchObject({ rewritten: 0, skipped: 0 })
    expect(new Set(versions(await envelopes(lk!.store)))).toEqual(new Set([2]))

    const targetUser = [...users].find(([name]) => name === target.user_id)!
    await expectUsersServed(new Set([targetUser[0]]))
    expect(targetUser[1].token).toBe(refreshed)
  })

  it('runs on key 2 alone: every secret decrypts, users are served, refresh and pending flows work', async () => {
    await boot(`2:${key2}`)
    await expectAllDecrypt(new Vault(Keyring.parse(`2:${key2}`)))
    await expectUsersServed()
    // Refresh through both providers: the admin provider's client secret was re-encrypted too.
    const refreshed = new Set<string>()
    for (const [user, u] of users) {
      if (!u.refresh) continue
      const c = (await lk!.store.getConnection(user, u.provider))!
      await lk!.store.updateConnection(c.id, { expires_at: Date.now() - 1000 })
      refreshed.add(user)
    }
    const calls = idp.tokenCalls.get('refresh_token') ?? 0
    await expectUsersServed(refreshed)
    expect((idp.tokenCalls.get('refresh_token') ?? 0) - calls).toBe(refreshed.size)
    // A flow started under key 1 (its PKCE verifier re-encrypted) still completes.
    const url = pendingFlowUrls[0]!
    const id = url.split('/').pop()!
    await new TestBrowser().authorize(url, { login: 'pending-1' })
    const done = await client().auth.waitForCompletion(id, { timeoutMs: 10_000 })
    expect(await meStatus(done.context!.token!)).toBe(200)
  })

  it('refuses to start with a wrong key for a version the database already uses', async () => {
    const wrong2 = createLatchkey(configFor(`2:${Keyring.generateKey()}`), { logger: createLogger('silent') })
    await expect(wrong2).rejects.toThrow(/encryption key version 2 is not the key this database was written with/)
    // Version 1 was retired by the completed rotation: no stored secret uses it, so it is not checked.
    const retired = await createLatchkey(configFor(`2:${key2},1:${Keyring.generateKey()}`), { logger: createLogger('silent') })
    await retired.close()
    // Dropping a version that stored secrets still use is refused.
    const missing = createLatchkey(configFor(`3:${Keyring.generateKey()}`), { logger: createLogger('silent') })
    await expect(missing).rejects.toThrow(/lacks key version 2/)
    // The right keys still start (and nothing was changed by the refused starts).
    await boot(`2:${key2}`)
    await expectUsersServed()
  })

  it('`latchkey keys rotate-encryption` re-encrypts every row and reports them', async () => {
    await lk!.close()
    lk = undefined
    const before = openStore({ url: dbFile })
    const rows = { connections: 0, flows: 0, providers: 0 }
    let total = 0
    let withSecrets = 0
    for (const t of TABLES) {
      const all = await before.listSecrets(t, '', 100_000)
      rows[t] = all.length
      total += all.length
      withSecrets += all.filter((r) => Object.values(r.fields).some((v) => v !== null)).length
    }
    await before.close()
    expect(rows.connections).toBeGreaterThan(0)
    expect(rows.providers).toBe(1)

    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('LATCHKEY_') && k !== 'DATABASE_URL' && k !== 'NODE_ENV') env[k] = v
    Object.assign(env, {
      DATABASE_URL: dbFile,
      LATCHKEY_ENCRYPTION_KEYS: `3:${key3},2:${key2}`,
      LATCHKEY_DATA_DIR: dir,
      LATCHKEY_LOG_LEVEL: 'warn',
    })
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'rotate-encryption', '--batch-size', '3'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code, `${stdout}\n${stderr}`).toBe(0)
    expect(stdout).toContain('Re-encrypting with key version 3')
    expect(stdout).toContain(`connections: ${rows.connections} scanned, ${rows.connections} re-encrypted`)
    expect(stdout).toContain(`providers: ${rows.providers} scanned, ${rows.providers} re-encrypted`)
    expect(stdout).toContain(`Done: ${total} rows scanned, ${withSecrets} re-encrypted.`)
    expect(stdout).toContain('Every secret now uses key version 3')

    await boot(`3:${key3}`)
    const list = await expectAllDecrypt(new Vault(Keyring.parse(`3:${key3}`)))
    expect(new Set(versions(list))).toEqual(new Set([3]))
    await expectUsersServed()
    const audit = await lk!.store.listAudit({ action: 'encryption.rotated' }, 10, 0)
    expect(audit.items[0]).toMatchObject({ actor: 'cli', detail: { key_version: 3, scanned: total, rewritten: withSecrets, skipped: 0 } })
  }, 60_000)
})
