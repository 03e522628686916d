/**
 * Webhook delivery with several Latchkey processes on one PostgreSQL: an event written by a
 * process that is then killed (SIGKILL) before delivering is delivered by the others; and with
 * two delivering processes and a receiver that sometimes fails, every event is acknowledged
 * exactly once (claims are leased with FOR UPDATE SKIP LOCKED), in order per connection.
 */

import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ApiKeys } from '../../src/broker/api-keys.js'
import { outboxEvent } from '../../src/broker/webhook-events.js'
import { Keyring } from '../../src/crypto/keyring.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'
import { type OutboxEvent, writeOutbox } from '../../src/storage/webhook-store.js'
import { TestBrowser } from '../helpers/browser.js'
import { startTestIdp, type TestIdp } from '../helpers/oidc-server.js'
import { freePort } from '../helpers/ports.js'
import { createTestDatabase, describePostgres } from '../helpers/postgres.js'
import { type ServerProcess, startServerProcess } from '../helpers/processes.js'
import { type Receiver, startReceiver, verifyWithReference } from '../helpers/webhook-receiver.js'

describePostgres('webhooks across processes on one PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> }
  let idp: TestIdp
  let receiver: Receiver
  let store: KyselyStore
  let key: string
  let secret: string
  const processes: ServerProcess[] = []
  const keys = `1:${Keyring.generateKey()}`
  const urls: string[] = []
  let common: Record<string, unknown>

  beforeAll(async () => {
    db = await createTestDatabase()
    receiver = await startReceiver()
    const ports = [await freePort(), await freePort(), await freePort()]
    for (const p of ports) urls.push(`http://127.0.0.1:${p}`)
    idp = await startTestIdp({ redirectUri: urls.map((u) => `${u}/oauth/callback`) })
    common = { databaseUrl: db.url, encryptionKeys: keys, providerEntries: [idp.entry()] }
    store = openStore({ url: db.url })
    await store.migrate()
    key = (await new ApiKeys(store).create({ name: 'test', role: 'admin' })).key
  }, 60_000)

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()))
    await store?.close()
    await receiver?.close()
    await idp?.close()
    await db?.drop()
  })

  const start = async (i: number, env: Record<string, string>) => {
    const port = Number(new URL(urls[i]!).port)
    const p = await startServerProcess({ ...common, port, publicUrl: urls[i], env: { LATCHKEY_WEBHOOK_RETRY_BASE_MS: '50', ...env } })
    processes.push(p)
    return p
  }

  it('delivers an event whose process was killed before delivering it', async () => {
    // Process C writes events but does not deliver (as if it died before its deliverer ran).
    const c = await start(2, { LATCHKEY_WEBHOOK_DELIVERY: 'false' })
    const created = await fetch(`${c.url}/v1/admin/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url }),
    })
    expect(created.status).toBe(201)
    secret = ((await created.json()) as { secret: string }).secret
    const client = new Latchkey({ apiKey: key, baseURL: c.url, maxRetries: 0 })
    const started = await client.auth.start('killed', 'test-idp', { scopes: ['openid', 'offline_access'] })
    await new TestBrowser().authorize(started.url!, { login: 'killed' })
    await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    await c.kill('SIGKILL')
    const pending = await store.db.selectFrom('webhook_events').selectAll().execute()
    expect(pending.map((e) => e.type).sort()).toEqual(['authorization.completed', 'connection.created'])
    expect(receiver.received).toHaveLength(0)

    await start(0, {})
    await start(1, {})
    await receiver.until(() => receiver.acknowledged().size === 2)
    for (const r of receiver.received) expect(() => verifyWithReference(r, secret)).not.toThrow()
  }, 60_000)

  it('acknowledges every event exactly once with two deliverers and a receiver that sometimes fails', async () => {
    receiver.received.length = 0
    let n = 0
    // Every third request fails (500), some answers are slow: retries and leases overlap.
    receiver.respond = async () => {
      const i = n++
      if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 30))
      return i % 3 === 0 ? 500 : 200
    }
    const connections = 40
    const perConnection = 10
    const events: OutboxEvent[] = []
    for (let k = 0; k < perConnection; k++)
      for (let c = 0; c < connections; c++) events.push(outboxEvent('connection.refreshed', `con_${c}`, { connection_id: `con_${c}`, k }))
    // Written as the state changes write them, then announced the way a commit is (NOTIFY).
    await store.db.transaction().execute((tx) => writeOutbox(tx, events))
    await store.publish({ channel: 'connection', id: 'con_0' })
    await receiver.until(() => receiver.acknowledged().size === events.length, 60_000)

    const acked = receiver.acknowledged()
    for (const e of events) expect(acked.get(e.id), e.id).toBe(1)
    expect(receiver.received.some((r) => r.status === 500)).toBe(true)
    // Per connection, acknowledged in the order written.
    for (let c = 0; c < connections; c++) {
      const ks = receiver.received
        .filter((r) => r.status === 200 && r.event.data['connection_id'] === `con_${c}`)
        .map((r) => r.event.data['k'] as number)
      expect(ks).toEqual([...Array(perConnection).keys()])
    }
    for (const p of processes) expect(p.stderr.join('')).not.toMatch(/webhook delivery run failed/)
  }, 90_000)
})
