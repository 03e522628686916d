/**
 * Signed webhooks from the durable outbox, end to end on SQLite and PostgreSQL: a real Latchkey
 * (real storage, the oidc-provider test IdP, a real browser flow) delivering to a real HTTP
 * receiver. Every delivery is verified with the Standard Webhooks reference library
 * (`standardwebhooks`), never with Latchkey's own code.
 */

import { Latchkey } from '@latchkey/client'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { outboxEvent } from '../../src/broker/webhook-events.js'
import { signMessage } from '../../src/broker/webhooks.js'
import { writeOutbox } from '../../src/storage/webhook-store.js'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, type HarnessOptions, startHarness } from '../helpers/latchkey.js'
import { createTestDatabase, describePostgres } from '../helpers/postgres.js'
import { type Receiver, startReceiver, verifyWithReference } from '../helpers/webhook-receiver.js'

const SCOPES = ['openid', 'profile', 'offline_access']

function suite(name: string, describeFn: typeof describe, database: () => Promise<{ url: string; drop(): Promise<void> }>) {
  describeFn(`webhooks on ${name}`, () => {
    let receiver: Receiver
    let db: { url: string; drop(): Promise<void> } | undefined
    const harnesses: Harness[] = []

    beforeAll(async () => {
      receiver = await startReceiver()
    })
    afterAll(async () => {
      await receiver.close()
    })
    afterEach(async () => {
      for (const x of harnesses.splice(0)) await x.close().catch(() => {})
      await db?.drop()
      db = undefined
      receiver.received.length = 0
      receiver.respond = () => 200
      await receiver.start().catch(() => {})
    })

    async function start(options: HarnessOptions & { env?: Record<string, string> } = {}, keepDb = false) {
      if (!keepDb || !db) db = await database()
      const x = await startHarness({
        databaseUrl: db.url,
        ...options,
        env: { LATCHKEY_WEBHOOK_RETRY_BASE_MS: '50', ...options.env },
      })
      harnesses.push(x)
      return x
    }

    async function admin(x: Harness, method: string, path: string, body?: unknown) {
      const res = await fetch(`${x.baseURL}${path}`, {
        method,
        headers: { authorization: `Bearer ${x.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
      return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined }
    }

    async function endpoint(x: Harness, body: Record<string, unknown> = {}) {
      const r = await admin(x, 'POST', '/v1/admin/webhooks', { url: receiver.url, ...body })
      expect(r.status).toBe(201)
      return r.body as { id: string; secret: string; status: string }
    }

    async function connect(x: Harness, user = 'alice') {
      const client = new Latchkey({ apiKey: x.apiKey, baseURL: x.baseURL, maxRetries: 0 })
      const started = await client.auth.start(user, 'test-idp', { scopes: SCOPES })
      await new TestBrowser().authorize(started.url!, { login: user })
      await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
      return { client, flowId: started.id!, connection: (await x.latchkey.store.getConnection(user, 'test-idp'))! }
    }

    const types = () => receiver.received.filter((r) => r.status === 200).map((r) => r.event.type)

    it('delivers signed events the reference library verifies, without tokens or secrets', async () => {
      const x = await start()
      const { secret } = await endpoint(x)
      expect(secret).toMatch(/^whsec_/)
      const { connection, flowId } = await connect(x)
      await receiver.until(() => types().includes('connection.created'))
      const completed = receiver.received.find((r) => r.event.type === 'authorization.completed')!
      expect(verifyWithReference(completed, secret)).toMatchObject({ type: 'authorization.completed' })
      expect(completed.event.data).toMatchObject({
        authorization_id: flowId,
        connection_id: connection.id,
        user_id: 'alice',
        provider_id: 'test-idp',
        status: 'completed',
      })
      for (const r of receiver.received) {
        expect(() => verifyWithReference(r, secret)).not.toThrow()
        expect(r.headers['webhook-id']).toMatch(/^msg_/)
        // No token, no secret: the stored ciphertexts and the plaintext tokens are absent.
        const access = x.latchkey.ctx.vault.accessToken(connection)
        const refresh = x.latchkey.ctx.vault.refreshToken(connection)!
        for (const s of [access, refresh, secret, connection.access_token_enc]) expect(r.body).not.toContain(s)
      }
      // The wrong secret is refused by the reference library.
      expect(() => verifyWithReference(completed, `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`)).toThrow()
      // Our node:crypto signature equals the reference library's.
      const ts = Number(completed.headers['webhook-timestamp'])
      expect(signMessage(secret, completed.id, ts, completed.body)).toBe(
        new Webhook(secret).sign(completed.id, new Date(ts * 1000), completed.body),
      )
    })

    it('announces refresh, scope changes, re-authorization, recovery and deletion', async () => {
      const x = await start()
      await endpoint(x)
      const { client, connection } = await connect(x)
      await receiver.until(() => types().includes('connection.created'))

      // A refresh.
      await x.latchkey.ctx.refresher.refresh(connection.id, { force: true })
      await receiver.until(() => types().includes('connection.refreshed'))
      const refreshed = receiver.received.find((r) => r.event.type === 'connection.refreshed')!
      expect(refreshed.event.data).toMatchObject({ connection_id: connection.id, status: 'active' })

      // The grant dies at the provider: reauth_required, with the provider's error.
      await x.latchkey.store.updateConnection(connection.id, {
        refresh_token_enc: x.latchkey.ctx.vault.seal(
          { table: 'connections', id: connection.id, field: 'refresh_token' },
          'not-a-valid-token',
        ),
      })
      await x.latchkey.ctx.refresher.refresh(connection.id, { force: true })
      await receiver.until(() => types().includes('connection.reauth_required'))
      const reauth = receiver.received.find((r) => r.event.type === 'connection.reauth_required')!
      expect(reauth.event.data).toMatchObject({ connection_id: connection.id, status: 'reauth_required', reason: 'invalid_grant' })
      expect((reauth.event.data['provider_error'] as { error: string }).error).toBe('invalid_grant')

      // The user authorizes again: recovered.
      const again = await client.auth.start('alice', 'test-idp', { scopes: SCOPES })
      await new TestBrowser().authorize(again.url!, { login: 'alice' })
      await client.auth.waitForCompletion(again, { timeoutMs: 10_000 })
      await receiver.until(() => types().includes('connection.recovered'))
      expect(receiver.received.find((r) => r.event.type === 'connection.recovered')!.event.data).toMatchObject({
        previous_status: 'reauth_required',
        via: 'authorization',
      })

      // Deleted through the admin API.
      const del = await admin(x, 'DELETE', `/v1/admin/user_connections/${connection.id}`)
      expect(del.status).toBeLessThan(300)
      await receiver.until(() => types().includes('connection.deleted'))

      // Per connection, events arrive in the order of their state changes.
      const order = types().filter((t) => t.startsWith('connection.'))
      expect(order).toEqual([
        'connection.created',
        'connection.refreshed',
        'connection.reauth_required',
        'connection.recovered',
        'connection.deleted',
      ])
    })

    it('announces a declined authorization with its reason', async () => {
      const x = await start()
      await endpoint(x, { events: ['authorization.*'] })
      const client = new Latchkey({ apiKey: x.apiKey, baseURL: x.baseURL, maxRetries: 0 })
      const started = await client.auth.start('bob', 'test-idp', { scopes: SCOPES })
      await new TestBrowser().authorize(started.url!, { login: 'bob', decision: 'deny' })
      await receiver.until(() => types().includes('authorization.failed'))
      const failed = receiver.received.find((r) => r.event.type === 'authorization.failed')!
      expect(failed.event.data).toMatchObject({ authorization_id: started.id, user_id: 'bob', reason: 'declined', error: 'access_denied' })
      // The filter: no connection events for this endpoint.
      expect(types().every((t) => t.startsWith('authorization.'))).toBe(true)
    })

    it('announces a flow that expired with nobody looking, once', async () => {
      const x = await start()
      await endpoint(x, { events: ['authorization.failed'] })
      const client = new Latchkey({ apiKey: x.apiKey, baseURL: x.baseURL, maxRetries: 0 })
      const started = await client.auth.start('carol', 'test-idp', { scopes: SCOPES })
      await x.latchkey.store.updateFlow(started.id!, { expires_at: Date.now() - 1000 })
      expect(await x.latchkey.sweepFlows()).toBe(1)
      expect(await x.latchkey.sweepFlows()).toBe(0)
      await receiver.until(() => types().includes('authorization.failed'))
      const failed = receiver.received.filter((r) => r.event.type === 'authorization.failed')
      expect(failed.map((r) => r.event.data)).toEqual([
        expect.objectContaining({ authorization_id: started.id, user_id: 'carol', reason: 'expired', error: 'expired' }),
      ])
      expect((await x.latchkey.store.getFlow(started.id!))?.status).toBe('failed')
      // A status call afterwards reports the expiry and emits nothing more.
      expect((await client.auth.status({ id: started.id! })).status).toBe('failed')
      await x.latchkey.sweepFlows()
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(receiver.received.filter((r) => r.event.type === 'authorization.failed')).toHaveLength(1)
    })

    it('a process that does not deliver still fails an expired flow, for another process to announce', async () => {
      // Flow lifecycle is not the deliverer's: with delivery off the flow is still failed, its
      // event written to the outbox (any delivering process sends it), its failure counted.
      const x = await start({ env: { LATCHKEY_WEBHOOK_DELIVERY: 'false' } })
      const client = new Latchkey({ apiKey: x.apiKey, baseURL: x.baseURL, maxRetries: 0 })
      const started = await client.auth.start('dora', 'test-idp', { scopes: SCOPES })
      await x.latchkey.store.updateFlow(started.id!, { expires_at: Date.now() - 1000 })
      expect(await x.latchkey.sweepFlows()).toBe(1)
      expect(await x.latchkey.store.getFlow(started.id!)).toMatchObject({ status: 'failed', error: 'expired' })
    })
    it('announces an open flow that a new authorize finds about to expire', async () => {
      const x = await start()
      await endpoint(x, { events: ['authorization.failed'] })
      const client = new Latchkey({ apiKey: x.apiKey, baseURL: x.baseURL, maxRetries: 0 })
      const first = await client.auth.start('dave', 'test-idp', { scopes: SCOPES })
      // Less than the minute a reused link keeps: the next start fails it and opens a new one.
      await x.latchkey.store.updateFlow(first.id!, { expires_at: Date.now() + 30_000 })
      const second = await client.auth.start('dave', 'test-idp', { scopes: SCOPES })
      expect(second.id).not.toBe(first.id)
      await receiver.until(() => types().includes('authorization.failed'))
      const failed = receiver.received.filter((r) => r.event.type === 'authorization.failed')
      expect(failed.map((r) => r.event.data)).toEqual([
        expect.objectContaining({ authorization_id: first.id, user_id: 'dave', reason: 'expired' }),
      ])
    })

    it("writes no event on a connected user's authorize (the hot path)", async () => {
      const x = await start()
      await endpoint(x)
      const { client } = await connect(x)
      await receiver.until(() => types().includes('connection.created'))
      const count = async () =>
        Number(
          (
            await x.latchkey.store.db
              .selectFrom('webhook_events')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        )
      const before = await count()
      for (let i = 0; i < 20; i++) expect((await client.auth.start('alice', 'test-idp', { scopes: ['openid'] })).status).toBe('completed')
      expect(await count()).toBe(before)
    })

    it('delivers an event committed while another is in flight without waiting for it', async () => {
      const x = await start()
      await endpoint(x)
      let release = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      let slowArrived = false
      receiver.respond = async (r) => {
        if (r.event.data['connection_id'] === 'con_slow') {
          slowArrived = true
          await gate
        }
        return 200
      }
      const store = x.latchkey.store
      const write = async (id: string) => {
        await store.db.transaction().execute((tx) => writeOutbox(tx, [outboxEvent('connection.refreshed', id, { connection_id: id })]))
        await store.publish({ channel: 'connection', id })
      }
      try {
        await write('con_slow')
        for (let i = 0; !slowArrived; i++) {
          if (i > 500) throw new Error('the first delivery never arrived')
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        // Less than the attempt timeout (10 s): the held delivery is still in flight throughout.
        await write('con_fast')
        await receiver.until((rs) => rs.some((r) => r.event.data['connection_id'] === 'con_fast'), 5_000)
      } finally {
        release()
      }
      await receiver.until((rs) => rs.some((r) => r.event.data['connection_id'] === 'con_slow'))
    })

    it('an endpoint that does not answer holds less than half of the sends: another endpoint is not kept waiting', async () => {
      const x = await start()
      // The held endpoint takes connection.refreshed; the other (the shared receiver) connection.deleted.
      const held = await startReceiver()
      let release = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      // Arrivals are counted as they come (the receiver records a message once it is answered).
      let arrived = 0
      const arrivals = async (n: number) => {
        for (let i = 0; arrived < n; i++) {
          if (i > 500) throw new Error(`only ${arrived} of ${n} deliveries arrived`)
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
      held.respond = async () => {
        arrived++
        await gate
        return 200
      }
      try {
        const r = await admin(x, 'POST', '/v1/admin/webhooks', { url: held.url, events: ['connection.refreshed'] })
        expect(r.status).toBe(201)
        await endpoint(x, { events: ['connection.deleted'] })
        const store = x.latchkey.store
        // 40 connections' events for the held endpoint: more than half of the 64 sends (which made the
        // pump wait for one of them to end, up to the 10 s attempt timeout, before claiming again).
        const ids = Array.from({ length: 40 }, (_, i) => `con_held_${i}`)
        await store.db.transaction().execute((tx) =>
          writeOutbox(
            tx,
            ids.map((id) => outboxEvent('connection.refreshed', id, { connection_id: id })),
          ),
        )
        await store.publish({ channel: 'connection', id: ids[0]! })
        await arrivals(31)
        await store.db
          .transaction()
          .execute((tx) => writeOutbox(tx, [outboxEvent('connection.deleted', 'con_other', { connection_id: 'con_other' })]))
        await store.publish({ channel: 'connection', id: 'con_other' })
        await receiver.until((rs) => rs.some((m) => m.event.data['connection_id'] === 'con_other'), 5_000)
        // Just under half of the 64: the held endpoint never had more in flight.
        expect(arrived).toBe(31)
      } finally {
        release()
        await held.until((rs) => rs.length >= 40, 20_000).catch(() => {})
        await held.close()
      }
    })

    it('retries while the receiver is down and delivers once it is up', async () => {
      const x = await start()
      await endpoint(x)
      await receiver.stop()
      await connect(x)
      // Attempts fail to connect meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 300))
      const deliveries = await x.latchkey.webhooks.store.db.selectFrom('webhook_deliveries').selectAll().execute()
      expect(deliveries.length).toBeGreaterThan(0)
      expect(deliveries.every((d) => d.status === 'pending')).toBe(true)
      // The oldest undelivered event's age is exported.
      const scrape = await (await fetch(`${x.baseURL}/metrics`)).text()
      expect(Number(/^latchkey_outbox_lag_seconds (\S+)$/m.exec(scrape)?.[1])).toBeGreaterThan(0)
      await receiver.start()
      receiver.respond = (() => {
        let n = 0
        // Up, but answering 503 twice first.
        return () => (n++ < 2 ? 503 : 200)
      })()
      await receiver.until(() => types().includes('connection.created') && types().includes('authorization.completed'))
      const acked = receiver.acknowledged()
      for (const n of acked.values()) expect(n).toBe(1)
      // The receiver answers before Latchkey records the answer.
      let rows = await x.latchkey.webhooks.store.db.selectFrom('webhook_deliveries').selectAll().execute()
      for (let i = 0; i < 50 && !rows.every((d) => d.status === 'delivered'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        rows = await x.latchkey.webhooks.store.db.selectFrom('webhook_deliveries').selectAll().execute()
      }
      expect(rows.every((d) => d.status === 'delivered')).toBe(true)
      expect(rows.some((d) => Number(d.attempts) > 1)).toBe(true)
    })

    it('marks an endpoint failing after the retry window, and sends again once re-enabled', async () => {
      const x = await start({ env: { LATCHKEY_WEBHOOK_RETRY_WINDOW_SECONDS: '1' } })
      const ep = await endpoint(x, { events: ['connection.created'] })
      receiver.respond = () => 500
      await connect(x)
      for (let i = 0; i < 100; i++) {
        if ((await admin(x, 'GET', `/v1/admin/webhooks/${ep.id}`)).body.status === 'failing') break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const failing = await admin(x, 'GET', `/v1/admin/webhooks/${ep.id}`)
      expect(failing.body).toMatchObject({ status: 'failing' })
      expect(failing.body.failing_since).not.toBeNull()
      const list = await admin(x, 'GET', `/v1/admin/webhooks/${ep.id}/deliveries?status=failed`)
      expect(list.body.total).toBe(1)
      expect(list.body.items[0]).toMatchObject({ status: 'failed', last_status_code: 500, event_type: 'connection.created' })
      const audit = await admin(x, 'GET', '/v1/admin/audit?action=webhook.endpoint_failing')
      expect(audit.body.items.length).toBe(1)

      // Re-enabled and redelivered: same webhook-id, now acknowledged.
      receiver.respond = () => 200
      expect((await admin(x, 'PATCH', `/v1/admin/webhooks/${ep.id}`, { enabled: true })).body.status).toBe('enabled')
      expect((await admin(x, 'POST', `/v1/admin/webhooks/${ep.id}/deliveries/${list.body.items[0].id}/redeliver`)).status).toBe(202)
      await receiver.until(() => receiver.acknowledged().has(list.body.items[0].event_id))
    })

    it('survives a restart between the state change and the delivery', async () => {
      if (name === 'SQLite') db = { url: `/tmp/latchkey-webhooks-${process.pid}-${Date.now()}.db`, drop: async () => {} }
      const keys = `1:${Buffer.alloc(32, 7).toString('base64')}`
      const a = await start({ encryptionKeys: keys, env: { LATCHKEY_WEBHOOK_DELIVERY: 'false' } }, true)
      await endpoint(a)
      const { connection } = await connect(a)
      await a.close()
      harnesses.splice(harnesses.indexOf(a), 1)
      expect(receiver.received).toHaveLength(0)
      const b = await start({ encryptionKeys: keys }, true)
      await receiver.until(() => types().includes('connection.created'))
      expect(receiver.received.find((r) => r.event.type === 'connection.created')!.event.data['connection_id']).toBe(connection.id)
      await b.close()
    })

    it('signs with both secrets during a rotation; config endpoints are read-only', async () => {
      const cfgSecret = `whsec_${Buffer.from('c'.repeat(32)).toString('base64')}`
      const x = await start({
        config: {
          webhooks: {
            ...(await import('../../src/config.js')).loadConfig({ env: {} }).webhooks,
            retryBaseMs: 50,
            endpoints: [
              { id: 'from-config', url: receiver.url, secret: cfgSecret, events: ['authorization.completed'], description: null },
            ],
          },
        },
      })
      const ep = await endpoint(x, { events: ['authorization.completed'] })
      const rotated = await admin(x, 'POST', `/v1/admin/webhooks/${ep.id}/rotate-secret`)
      expect(rotated.status).toBe(200)
      expect(rotated.body.secret).toMatch(/^whsec_/)
      await connect(x)
      await receiver.until((all) => all.filter((r) => r.status === 200).length >= 2)
      const signatures = receiver.received.map((r) => String(r.headers['webhook-signature']).split(' ').length).sort()
      // One from the config endpoint (one secret), one signed with both secrets.
      expect(signatures).toEqual([1, 2])
      const rotatedDelivery = receiver.received.find((r) => String(r.headers['webhook-signature']).includes(' '))!
      expect(() => verifyWithReference(rotatedDelivery, ep.secret)).not.toThrow()
      expect(() => verifyWithReference(rotatedDelivery, rotated.body.secret)).not.toThrow()
      const fromConfig = receiver.received.find((r) => !String(r.headers['webhook-signature']).includes(' '))!
      expect(() => verifyWithReference(fromConfig, cfgSecret)).not.toThrow()

      const list = await admin(x, 'GET', '/v1/admin/webhooks')
      expect(list.body.items.map((e: { source: string }) => e.source).sort()).toEqual(['api', 'config'])
      expect(JSON.stringify(list.body)).not.toContain('whsec_')
      const change = await admin(x, 'PATCH', '/v1/admin/webhooks/from-config', { url: 'https://example.com/x' })
      expect(change.status).toBe(409)
      expect(change.body.name).toBe('WEBHOOK_READ_ONLY')
      expect((await admin(x, 'DELETE', '/v1/admin/webhooks/from-config')).status).toBe(409)
    })

    it('syncs config endpoints idempotently when two starts race', async () => {
      const cfgSecret = `whsec_${Buffer.from('d'.repeat(32)).toString('base64')}`
      const x = await start({
        config: {
          webhooks: {
            ...(await import('../../src/config.js')).loadConfig({ env: {} }).webhooks,
            endpoints: [{ id: 'raced', url: receiver.url, secret: cfgSecret, events: ['*'], description: null }],
          },
        },
      })
      const hooks = x.latchkey.webhooks
      // As if neither process had synced yet: both see no row, both insert.
      await hooks.store.deleteEndpoint('raced')
      await Promise.all([hooks.syncConfigEndpoints(), hooks.syncConfigEndpoints(), hooks.syncConfigEndpoints()])
      const rows = (await hooks.store.listEndpoints()).filter((e) => e.id === 'raced')
      expect(rows.map((e) => e.source)).toEqual(['config'])
    })

    it('documents every event with an example payload in the OpenAPI document', async () => {
      const x = await start()
      // biome-ignore lint/suspicious/noExplicitAny: the document is read field by field
      const doc = (await (await fetch(`${x.baseURL}/v1/openapi.json`)).json()) as { webhooks: Record<string, any> }
      const { WEBHOOK_EVENT_TYPES } = await import('../../src/broker/webhook-events.js')
      expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort())
      for (const [type, item] of Object.entries(doc.webhooks))
        expect(item.post.requestBody.content['application/json'].example.type).toBe(type)
    })

    it('refuses unsafe endpoint URLs', async () => {
      const x = await start({ env: { LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.0/8' } })
      for (const url of [
        'http://example.com/hook',
        'https://169.254.169.254/latest',
        'https://10.0.0.1/x',
        'ftp://example.com/',
        'not a url',
      ]) {
        const r = await admin(x, 'POST', '/v1/admin/webhooks', { url })
        expect(r.status, url).toBe(400)
      }
      expect((await admin(x, 'POST', '/v1/admin/webhooks', { url: 'https://example.com/h', events: ['nope'] })).status).toBe(400)
    })

    it('announces a refresh token about to expire once per expiry', async () => {
      const x = await start()
      await endpoint(x, { events: ['connection.refresh_token_expiring'] })
      const { connection } = await connect(x)
      const expiry = Date.now() + 3600_000
      await x.latchkey.store.updateConnection(connection.id, { refresh_token_expires_at: expiry })
      expect(await x.latchkey.webhooks.sweep()).toBe(1)
      expect(await x.latchkey.webhooks.sweep()).toBe(0)
      await receiver.until(() => types().includes('connection.refresh_token_expiring'))
      const e = receiver.received.find((r) => r.event.type === 'connection.refresh_token_expiring')!
      expect(e.event.data).toMatchObject({ connection_id: connection.id, refresh_token_expires_at: new Date(expiry).toISOString() })
      // A new expiry (the token rotated) is announced again.
      await x.latchkey.store.updateConnection(connection.id, { refresh_token_expires_at: expiry + 60_000 })
      expect(await x.latchkey.webhooks.sweep()).toBe(1)
    })

    it('re-encrypts endpoint secrets on key rotation (keys rotate-encryption)', async () => {
      if (name === 'SQLite') db = { url: `/tmp/latchkey-webhooks-rot-${process.pid}-${Date.now()}.db`, drop: async () => {} }
      const k1 = `1:${Buffer.alloc(32, 1).toString('base64')}`
      const x = await start({ encryptionKeys: k1 }, true)
      const ep = await endpoint(x)
      await x.close()
      harnesses.splice(harnesses.indexOf(x), 1)
      const { openStore } = await import('../../src/storage/open-store.js')
      const { Keyring } = await import('../../src/crypto/keyring.js')
      const { Vault } = await import('../../src/broker/vault.js')
      const { rotateEncryption } = await import('../../src/broker/rotate-encryption.js')
      const store = openStore({ url: db!.url })
      await store.migrate()
      const vault = new Vault(Keyring.parse(`2:${Buffer.alloc(32, 2).toString('base64')},${k1}`))
      expect((await rotateEncryption(store, vault)).rewritten).toBeGreaterThan(0)
      const row = await store.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', ep.id).executeTakeFirstOrThrow()
      expect(Keyring.versionOf(row.secret_enc)).toBe(2)
      expect(vault.open({ table: 'webhook_endpoints', id: ep.id, field: 'secret' }, row.secret_enc)).toBe(ep.secret)
      await store.close()
    })

    it('writes no event for a change that did not happen', async () => {
      const x = await start()
      const { flowId } = await connect(x)
      const count = async () =>
        Number(
          (
            await x.latchkey.store.db
              .selectFrom('webhook_events')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        )
      const before = await count()
      // The flow is completed: a failure is not written, and neither is its event.
      const { flowFailedEvent } = await import('../../src/broker/webhook-events.js')
      const flow = (await x.latchkey.store.getFlow(flowId))!
      expect(
        await x.latchkey.store.updateFlow(flowId, { status: 'failed', error: 'expired' }, [flowFailedEvent(flow, 'expired', 'x')]),
      ).toBe(false)
      expect(await count()).toBe(before)
      // A refresh-lock transaction that throws after writing rolls back (PostgreSQL) its event with it.
      if (name === 'PostgreSQL') {
        const c = (await x.latchkey.store.getConnection('alice', 'test-idp'))!
        await expect(
          x.latchkey.store.withRefreshLock(c.id, async (locked) => {
            await locked.update({ last_refresh_error: 'boom' }, [flowFailedEvent(flow, 'expired', 'x')])
            throw new Error('rolled back')
          }),
        ).rejects.toThrow('rolled back')
        expect(await count()).toBe(before)
        expect((await x.latchkey.store.getConnectionById(c.id))!.last_refresh_error).toBeNull()
      }
    })
  })
}

suite('SQLite', describe, async () => ({ url: ':memory:', drop: async () => {} }))
suite('PostgreSQL', describePostgres as unknown as typeof describe, createTestDatabase)
