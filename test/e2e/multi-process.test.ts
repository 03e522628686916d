/**
 * Several Latchkey processes on one PostgreSQL database, as in a scaled-out deployment:
 * a long-poll on one process is woken by a callback on another (LISTEN/NOTIFY), a refresh
 * storm across processes makes exactly one provider call (row lock), and a process killed
 * with SIGKILL in the middle of a refresh does not lose the connection.
 */

import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ApiKeys } from '../../src/broker/api-keys.js'
import { Keyring } from '../../src/crypto/keyring.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'
import { TestBrowser } from '../helpers/browser.js'
import { startTestIdp, type TestIdp } from '../helpers/oidc-server.js'
import { freePort } from '../helpers/ports.js'
import { createTestDatabase, describePostgres } from '../helpers/postgres.js'
import { type ServerProcess, startServerProcess } from '../helpers/processes.js'

describePostgres('many processes on one PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> }
  let idp: TestIdp
  let a: ServerProcess
  let b: ServerProcess
  let store: KyselyStore
  let clientA: Latchkey
  let clientB: Latchkey
  const keys = `1:${Keyring.generateKey()}`

  beforeAll(async () => {
    db = await createTestDatabase()
    const [pa, pb] = [await freePort(), await freePort()]
    const urlA = `http://127.0.0.1:${pa}`
    const urlB = `http://127.0.0.1:${pb}`
    idp = await startTestIdp({ redirectUri: [`${urlA}/oauth/callback`, `${urlB}/oauth/callback`] })
    const common = { databaseUrl: db.url, encryptionKeys: keys, providerEntries: [idp.entry()] }
    a = await startServerProcess({ ...common, port: pa, publicUrl: urlA })
    b = await startServerProcess({ ...common, port: pb, publicUrl: urlB })
    store = openStore({ url: db.url })
    const { key } = await new ApiKeys(store).create({ name: 'test', role: 'admin' })
    clientA = new Latchkey({ apiKey: key, baseURL: a.url, maxRetries: 0 })
    clientB = new Latchkey({ apiKey: key, baseURL: b.url, maxRetries: 0 })
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()])
    await store?.close()
    await idp?.close()
    await db?.drop()
  })

  async function connectUser(user: string) {
    const started = await clientA.auth.start(user, 'test-idp', { scopes: ['openid', 'offline_access'] })
    await new TestBrowser().authorize(started.url!, { login: user })
    return clientA.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  }

  it('wakes a long-poll on process A when the callback lands on process B', async () => {
    const started = await clientA.auth.start('wake', 'test-idp', { scopes: ['openid'] })
    const browser = new TestBrowser()
    const atCallback = await browser.authorize(started.url!, { login: 'wake', stopAt: (u) => u.pathname === '/oauth/callback' })
    // The load balancer sends the browser's callback to process B.
    const onB = new URL(atCallback.location!)
    onB.host = new URL(b.url).host
    const poll = clientA.auth.status({ id: started.id!, wait: 30 })
    await new Promise((r) => setTimeout(r, 300))
    let landed = 0
    const callback = browser.request(onB.toString()).then((s) => {
      landed = Date.now()
      return s
    })
    const [result, page] = await Promise.all([poll, callback])
    const latency = Date.now() - landed
    console.log(`cross-process wake-up: status answered ${latency} ms after the callback response`)
    expect(page.status).toBe(200)
    expect(result.status).toBe('completed')
    expect(latency).toBeLessThan(1000)
  })

  it('makes exactly one provider call for 200 concurrent requests for one expired token on two processes', async () => {
    await connectUser('storm')
    const c = (await store.getConnection('storm', 'test-idp'))!
    await store.updateConnection(c.id, { expires_at: Date.now() - 1000 })
    const before = idp.tokenCalls.get('refresh_token') ?? 0
    idp.tokenDelayMs = 200
    try {
      const calls = Array.from({ length: 200 }, (_, i) =>
        (i % 2 ? clientA : clientB).auth.start('storm', 'test-idp', { scopes: ['openid'] }),
      )
      const results = await Promise.all(calls)
      expect((idp.tokenCalls.get('refresh_token') ?? 0) - before).toBe(1)
      const tokens = new Set(results.map((r) => r.context?.token))
      expect(tokens.size).toBe(1)
      const me = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${[...tokens][0]}` } })
      expect(me.status).toBe(200)
    } finally {
      idp.tokenDelayMs = 0
    }
  })

  it('recovers when a process is killed (SIGKILL) in the middle of a refresh', async () => {
    await connectUser('crash')
    const c = (await store.getConnection('crash', 'test-idp'))!
    await store.updateConnection(c.id, { expires_at: Date.now() - 1000 })
    idp.tokenDelayMs = 5000
    const received = idp.tokenRequestsReceived
    const doomed = clientA.auth.start('crash', 'test-idp', { scopes: ['openid'] }).catch((e: unknown) => e)
    for (let i = 0; i < 100 && idp.tokenRequestsReceived === received; i++) await new Promise((r) => setTimeout(r, 50))
    expect(idp.tokenRequestsReceived).toBe(received + 1)
    await a.kill('SIGKILL')
    await doomed
    idp.tokenDelayMs = 0
    const t0 = Date.now()
    const r = await clientB.auth.start('crash', 'test-idp', { scopes: ['openid'] })
    console.log(`after SIGKILL: process B served a fresh token in ${Date.now() - t0} ms`)
    expect(r.status).toBe('completed')
    const me = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${r.context!.token}` } })
    expect(me.status).toBe(200)
    const after = (await store.getConnectionById(c.id))!
    expect(after.status).toBe('active')
    expect(after.refresh_token_enc).not.toBeNull()
  })
})
