/**
 * @module broker/waiters
 * Long-poll waiters for `GET /v1/auth/status?wait=`: woken by store events (in-process, and
 * from other processes through PostgreSQL LISTEN/NOTIFY), never by polling the database.
 * One store subscription serves every waiter; a waiter costs a map entry and a timer.
 */
import type { Store } from '../storage/store.js'

export class FlowWaiters {
  #waiting = new Map<string, Set<() => void>>()
  #closed = false
  readonly #unsubscribe: () => void

  constructor(store: Store) {
    this.#unsubscribe = store.subscribe((event) => {
      if (event.channel !== 'flow') return
      const set = this.#waiting.get(event.id)
      if (!set) return
      this.#waiting.delete(event.id)
      for (const wake of set) wake()
    })
  }

  /** Resolves true when the flow changes, false after `ms` or when `signal` aborts. */
  wait(flowId: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false)
    return new Promise((resolve) => {
      let set = this.#waiting.get(flowId)
      if (!set) {
        set = new Set()
        this.#waiting.set(flowId, set)
      }
      const done = (changed: boolean) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const s = this.#waiting.get(flowId)
        s?.delete(wake)
        if (s?.size === 0) this.#waiting.delete(flowId)
        resolve(changed)
      }
      const wake = () => done(true)
      const onAbort = () => done(false)
      const timer = setTimeout(() => done(false), ms)
      signal?.addEventListener('abort', onAbort, { once: true })
      set.add(wake)
    })
  }

  get size(): number {
    let n = 0
    for (const s of this.#waiting.values()) n += s.size
    return n
  }

  /** True once closing: long-polls answer with the current state instead of waiting. */
  get closed(): boolean {
    return this.#closed
  }

  close(): void {
    this.#closed = true
    this.#unsubscribe()
    for (const set of this.#waiting.values()) for (const wake of set) wake()
    this.#waiting.clear()
  }
}
