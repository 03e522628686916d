/**
 * The deliverer's pump must not miss a wake-up. A kick (new events committed) or a finished
 * dispatch that arrives while the pump is claiming — nobody waiting yet — used to be lost: the
 * pump then waited for a send already in flight, so another connection's new event waited for the
 * slowest send (up to the attempt timeout). The timings here make the kick land inside a claim:
 * the store's claim takes 50 ms, a dispatch 5 ms, and one delivery's receiver holds it 2 s. The
 * store and receiver are fakes because the race is in the pump's scheduling; the e2e webhook
 * tests run the same code against real databases and a real receiver.
 */
import { describe, expect, it } from 'vitest'
import { generateSecret, Webhooks } from '../../src/broker/webhooks.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('webhook pump', () => {
  it('a kick during a claim is not lost behind a slow send', async () => {
    const secret = generateSecret()
    const t0 = Date.now()
    const outbox: string[] = ['held']
    const deliveries: Array<{ id: string; status: 'pending' | 'sent' }> = []
    const received: Record<string, number> = {}
    const rest = { get: (t: Record<string, unknown>, k: string) => (k in t ? t[k] : async () => []) }
    const store = new Proxy(
      {
        async dispatch() {
          await sleep(5)
          const n = outbox.length
          for (const e of outbox.splice(0)) deliveries.push({ id: e, status: 'pending' })
          return n
        },
        async claim(_owner: string, _now: number, _lease: number, limit: number) {
          const due = deliveries.filter((d) => d.status === 'pending').slice(0, limit)
          for (const d of due) d.status = 'sent'
          await sleep(50)
          return due.map((d) => ({
            id: d.id,
            endpoint_id: 'wh',
            event_id: d.id,
            event_type: 'connection.created',
            attempts: 0,
            created_at: Date.now(),
            payload: '{}',
            url: 'http://receiver.example/hooks',
            secret_enc: 's',
            previous_secret_enc: null,
            previous_secret_expires_at: null,
          }))
        },
        async markDelivered() {},
        async markAttemptFailed() {},
        async nextDueAt() {
          return undefined
        },
      },
      rest,
    )
    const ctx = {
      config: {
        webhooks: { concurrency: 64, attemptTimeoutMs: 10_000, retryBaseMs: 1000, retryWindowMs: 1e9, expiryLeadMs: 0, retentionMs: 1e9 },
      },
      store: new Proxy({ unavailable: false, subscribe: () => () => {} }, rest),
      log: { warn() {}, debug() {}, info() {} },
      vault: { open: () => secret },
      audit: { record() {} },
      http: {
        timeoutMs: 10_000,
        outbound: { guard: { check: async () => {} } },
        fetch: async (_url: string, init: { headers: Headers | Record<string, string> }) => {
          const id = init.headers instanceof Headers ? init.headers.get('webhook-id')! : init.headers['webhook-id']!
          if (id === 'held') await sleep(2000)
          received[id] = Date.now() - t0
          return new Response(null, { status: 200 })
        },
      },
    }
    // biome-ignore lint/suspicious/noExplicitAny: fakes of the store and context, only the parts the pump uses
    const w = new Webhooks(ctx as any, store as any, { pollMs: 60_000 })
    w.start()
    try {
      // The first claim (the held delivery) ends at ~55 ms; the second, empty one runs until ~105 ms.
      await sleep(75)
      outbox.push('other')
      w.kick()
      await expect.poll(() => received['other'], { timeout: 5_000, interval: 20 }).toBeDefined()
      // Delivered while the held send is still in flight, not after it.
      expect(received['held']).toBeUndefined()
    } finally {
      await w.stop()
    }
  }, 15_000)
})
