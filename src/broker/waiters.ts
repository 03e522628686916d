/**
 * @module broker/waiters
 * Long-poll waiters for `GET /v1/auth/status?wait=`: woken by store events (in-process, and
 * from other processes through PostgreSQL LISTEN/NOTIFY), never by polling the database.
 * One store subscription serves every waiter, and one timer all their deadlines: a waiter is
 * one small object in a map and in a deadline queue (no timer, closures or abort signal of its
 * own), which is what 10,000 parked long-polls cost here (bench/scenarios/long-polls.ts).
 */
import type { Store } from '../storage/store.js'

/** A parked wait: `changed` resolves true when the flow changes, false at its deadline or on `cancel()`. */
export interface Waiter {
  readonly changed: Promise<boolean>
  /** Ends the wait now (resolving `changed` false if nothing woke it); idempotent. */
  cancel(): void
}

class Entry implements Waiter {
  readonly changed: Promise<boolean>
  resolve!: (changed: boolean) => void
  settled = false
  constructor(
    readonly owner: FlowWaiters,
    readonly flowId: string,
    readonly deadline: number,
  ) {
    this.changed = new Promise<boolean>((resolve) => {
      this.resolve = resolve
    })
  }
  cancel(): void {
    this.owner.settle(this, false)
  }
}

export class FlowWaiters {
  /** Flow id → its waiter, or a set when several wait on one flow. */
  #waiting = new Map<string, Entry | Set<Entry>>()
  /** Deadline order (waits mostly arrive with the same length, so appends are the rule). */
  #queue: Entry[] = []
  #head = 0
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity
  #size = 0
  /** Settled entries still in the queue. */
  #stale = 0
  #closed = false
  readonly #unsubscribe: () => void

  constructor(store: Store) {
    this.#unsubscribe = store.subscribe((event) => {
      if (event.channel !== 'flow') return
      const found = this.#waiting.get(event.id)
      if (!found) return
      if (found instanceof Entry) this.settle(found, true)
      else for (const e of [...found]) this.settle(e, true)
    })
  }

  /** Parks a wait on `flowId` for `ms`. */
  enter(flowId: string, ms: number): Waiter {
    const e = new Entry(this, flowId, Date.now() + ms)
    if (this.#closed) {
      e.settled = true
      e.resolve(false)
      return e
    }
    const found = this.#waiting.get(flowId)
    if (!found) this.#waiting.set(flowId, e)
    else if (found instanceof Entry) this.#waiting.set(flowId, new Set([found, e]))
    else found.add(e)
    this.#size++
    this.#enqueue(e)
    return e
  }

  /** Resolves true when the flow changes, false after `ms` or when `signal` aborts. */
  wait(flowId: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    const w = this.enter(flowId, ms)
    if (signal) {
      const onAbort = () => w.cancel()
      signal.addEventListener('abort', onAbort, { once: true })
      void w.changed.then(() => signal.removeEventListener('abort', onAbort))
    }
    return w.changed
  }

  /** @internal Ends `e` (woken: `changed`), removing it from the flow's waiters; `queued`: its queue slot stays behind. */
  settle(e: Entry, changed: boolean, queued = true): void {
    if (e.settled) return
    e.settled = true
    const found = this.#waiting.get(e.flowId)
    if (found === e) this.#waiting.delete(e.flowId)
    else if (found instanceof Set) {
      found.delete(e)
      if (found.size === 1) this.#waiting.set(e.flowId, found.values().next().value!)
    }
    this.#size--
    // Its queue slot is dropped when the queue reaches it, or here once settled slots (woken
    // waits) are the larger part of a long queue.
    if (this.#size === 0) this.#reset()
    else if (queued && ++this.#stale > 1024 && this.#stale * 2 > this.#queue.length - this.#head) this.#compact()
    e.resolve(changed)
  }

  #enqueue(e: Entry): void {
    const q = this.#queue
    let i = q.length
    // Binary search only when this wait ends before the last one queued (a shorter `wait`).
    if (i > this.#head && q[i - 1]!.deadline > e.deadline) {
      let lo = this.#head
      let hi = i
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (q[mid]!.deadline <= e.deadline) lo = mid + 1
        else hi = mid
      }
      i = lo
      q.splice(i, 0, e)
    } else q.push(e)
    if (e.deadline < this.#timerAt) this.#arm(e.deadline)
  }

  #arm(at: number): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - Date.now()))
    this.#timer.unref()
  }

  #expire(): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    const now = Date.now()
    const q = this.#queue
    while (this.#head < q.length && (q[this.#head]!.settled || q[this.#head]!.deadline <= now)) {
      const e = q[this.#head++]!
      if (e.settled) this.#stale--
      else this.settle(e, false, false)
      if (this.#queue !== q) {
        // Settling the last waiter reset the queue.
        this.#rearm()
        return
      }
    }
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head)
      this.#head = 0
    }
    this.#rearm()
  }

  #compact(): void {
    this.#queue = this.#queue.slice(this.#head).filter((e) => !e.settled)
    this.#head = 0
    this.#stale = 0
  }

  #rearm(): void {
    const next = this.#queue[this.#head]
    if (next) this.#arm(next.deadline)
  }

  #reset(): void {
    this.#queue = []
    this.#head = 0
    this.#stale = 0
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
  }

  get size(): number {
    return this.#size
  }

  /** True once closing: long-polls answer with the current state instead of waiting. */
  get closed(): boolean {
    return this.#closed
  }

  close(): void {
    this.#closed = true
    this.#unsubscribe()
    for (const found of [...this.#waiting.values()]) {
      if (found instanceof Entry) this.settle(found, false)
      else for (const e of [...found]) this.settle(e, false)
    }
    this.#reset()
  }
}
