/**
 * @module broker/background-refresh
 * Keeps connections with a refresh token alive ahead of expiry: every interval, refresh the
 * connections whose access token expires within twice the margin, a bounded number at a time.
 * Uses the same single-flight and database lock as on-demand refresh, so it never races them
 * (or another process's background refresher).
 */

import { isStoreUnavailable } from '../storage/unavailable.js'
import type { BrokerContext } from './context.js'

export class BackgroundRefresher {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor(private readonly ctx: BrokerContext) {}

  start(): void {
    const { intervalSeconds } = this.ctx.config.backgroundRefresh
    this.#timer = setInterval(() => void this.runOnce(), intervalSeconds * 1000)
    this.#timer.unref()
  }

  /** One pass over the connections that are due. */
  runOnce(): Promise<void> {
    if (this.#running || this.#stopped) return this.#running ?? Promise.resolve()
    // A database outage must not become an unhandled rejection (which would end the process).
    this.#running = this.#pass()
      .catch((err: unknown) => {
        // A database outage is logged once, when it starts and ends, by the store.
        if (!isStoreUnavailable(err))
          this.ctx.log.warn({ err: (err as Error).message }, 'background refresh pass failed; retrying next interval')
      })
      .finally(() => (this.#running = undefined))
    return this.#running
  }

  async #pass(): Promise<void> {
    const { config, store, refresher, log } = this.ctx
    const now = Date.now()
    const withinMs = config.refreshMarginSeconds * 2000
    // Short-lived tokens are selected only once past half their life (the store applies the rule).
    const due = await store.listConnectionsToRefresh(now + withinMs, now, 500)
    let next = 0
    const worker = async () => {
      while (next < due.length && !this.#stopped) {
        const c = due[next++]!
        try {
          await refresher.refresh(c.id, { actor: 'background-refresh', withinMs })
        } catch (err) {
          if (!isStoreUnavailable(err)) log.warn({ connection: c.id, err: (err as Error).message }, 'background refresh failed')
        }
      }
    }
    await Promise.all(Array.from({ length: config.backgroundRefresh.concurrency }, worker))
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#running
  }
}
