/**
 * @module storage/postgres-events
 * Cross-process events over PostgreSQL LISTEN/NOTIFY on a dedicated connection, which is
 * re-opened with backoff when it drops (a restarted database, a network blip). While it is
 * down, waiters still time out normally and re-read state, so nothing is lost, only delayed.
 */
import type pg from 'pg'
import type { EventBridge } from './kysely-store.js'
import { loadPg } from './load-pg.js'

export class PostgresEventBridge implements EventBridge {
  readonly #url: string
  readonly #channel: string
  readonly #onError: ((err: Error) => void) | undefined
  #client: pg.Client | undefined
  #publisher: pg.Client | undefined
  #onMessage: ((payload: string) => void) | undefined
  #onLive: ((live: boolean) => void) | undefined
  #stopped = false
  #retry: NodeJS.Timeout | undefined

  constructor(url: string, channel: string, onError?: (err: Error) => void) {
    this.#url = url
    this.#channel = channel
    this.#onError = onError
  }

  async start(onMessage: (payload: string) => void, onLive: (live: boolean) => void): Promise<void> {
    this.#onMessage = onMessage
    this.#onLive = onLive
    await this.#connect(0)
  }

  async #connect(attempt: number): Promise<void> {
    if (this.#stopped) return
    // A bounded connect: a server that does not answer (partition) must not stop the reconnect loop.
    // Keep-alive probes, so a connection that died without a FIN (a dropped network path) is
    // noticed and reported as lost instead of silently delivering nothing.
    const client = new (loadPg().Client)({ connectionString: this.#url, connectionTimeoutMillis: 5000, keepAlive: true })
    client.on('notification', (msg) => {
      if (msg.channel === this.#channel && msg.payload) this.#onMessage?.(msg.payload)
    })
    client.on('error', (err) => this.#lost(client, err))
    client.on('end', () => this.#lost(client, new Error('listener connection ended')))
    try {
      await client.connect()
      await client.query(`LISTEN ${this.#channel}`)
      this.#client = client
      if (attempt > 0) this.#onLive?.(true)
    } catch (err) {
      client.removeAllListeners('end')
      await client.end().catch(() => {})
      if (attempt === 0) throw err
      this.#schedule(attempt + 1)
    }
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#client !== client || this.#stopped) return
    this.#client = undefined
    this.#onLive?.(false)
    this.#onError?.(err)
    client.removeAllListeners()
    client.on('error', () => {})
    client.end().catch(() => {})
    this.#schedule(1)
  }

  #schedule(attempt: number): void {
    if (this.#stopped) return
    const delay = Math.min(100 * 2 ** (attempt - 1), 5000)
    this.#retry = setTimeout(() => {
      this.#connect(attempt).catch((err: Error) => this.#onError?.(err))
    }, delay)
    this.#retry.unref()
  }

  #publishing: Promise<void> = Promise.resolve()

  /** Publishes in order over one connection (pg clients take one query at a time). */
  publish(payload: string): Promise<void> {
    const next = this.#publishing.then(() => this.#publishNow(payload))
    this.#publishing = next.catch(() => {})
    return next
  }

  async #publishNow(payload: string): Promise<void> {
    if (!this.#publisher) {
      const client = new (loadPg().Client)({ connectionString: this.#url, connectionTimeoutMillis: 5000 })
      client.on('error', () => {
        if (this.#publisher === client) this.#publisher = undefined
      })
      client.on('end', () => {
        if (this.#publisher === client) this.#publisher = undefined
      })
      this.#publisher = client
      try {
        await client.connect()
      } catch (err) {
        this.#publisher = undefined
        throw err
      }
    }
    await this.#publisher.query('select pg_notify($1, $2)', [this.#channel, payload])
  }

  /** For tests: drop the listener connection as a network failure would. */
  killListener(): void {
    this.#client?.emit('error', new Error('killed by test'))
  }

  get listening(): boolean {
    return this.#client !== undefined
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#retry)
    const clients = [this.#client, this.#publisher]
    this.#client = undefined
    this.#publisher = undefined
    await Promise.all(clients.map((c) => c?.end().catch(() => {})))
  }
}
