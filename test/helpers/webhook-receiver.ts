/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every request and
 * answers with what `respond` says (default 200). `verified(secret)` checks every received
 * message with the Standard Webhooks reference library, not with Latchkey's own code.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { Webhook } from 'standardwebhooks'
import { freePort } from './ports.js'

export interface Received {
  id: string
  headers: IncomingHttpHeaders
  body: string
  event: { type: string; timestamp: string; data: Record<string, unknown> }
  /** The status this receiver answered with. */
  status: number
  at: number
}

export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** Answers with this status (default 200); may also delay. */
  respond: (r: Omit<Received, 'status'>) => number | Promise<number>
  /** Messages answered with a 2xx, by webhook-id. */
  acknowledged(): Map<string, number>
  /** Resolves once `predicate` holds over what was received (checked on every request). */
  until(predicate: (received: Received[]) => boolean, timeoutMs?: number): Promise<void>
  /** Stops listening (the next attempts fail to connect), and `start` listens again on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const port = await freePort()
  const waiters: Array<() => void> = []
  let server: Server | undefined
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received: [],
    respond: () => 200,
    acknowledged() {
      const m = new Map<string, number>()
      for (const r of receiver.received) if (r.status >= 200 && r.status < 300) m.set(r.id, (m.get(r.id) ?? 0) + 1)
      return m
    },
    async until(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(receiver.received)) {
        if (Date.now() > deadline)
          throw new Error(`receiver: condition not met within ${timeoutMs} ms (${receiver.received.length} received)`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 200)
        })
      }
    },
    async start() {
      if (server) return
      server = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8')
          const base = {
            id: String(req.headers['webhook-id']),
            headers: req.headers,
            body,
            event: JSON.parse(body) as Received['event'],
            at: Date.now(),
          }
          void Promise.resolve(receiver.respond(base)).then((status) => {
            receiver.received.push({ ...base, status })
            res.writeHead(status).end()
            for (const w of waiters.splice(0)) w()
          })
        })
      })
      server.keepAliveTimeout = 100
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
    },
    async stop() {
      const s = server
      server = undefined
      if (!s) return
      s.closeAllConnections()
      await new Promise((resolve) => s.close(resolve))
    },
    close: () => receiver.stop(),
  }
  await receiver.start()
  return receiver
}

/** Verifies a received message with the reference library; returns the parsed payload. */
export function verifyWithReference(r: Received, secret: string): unknown {
  const h = r.headers
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(h['webhook-id']),
    'webhook-timestamp': String(h['webhook-timestamp']),
    'webhook-signature': String(h['webhook-signature']),
  })
}
