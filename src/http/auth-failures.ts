/**
 * @module http/auth-failures
 * Failed API-key attempts per client address, in fixed one-minute windows, per process. An
 * address past the limit is answered 429 without a key check (no hashing, no database read)
 * until its window ends. Only failures are counted, and only the slow path (a key not in the
 * verified-key cache) asks, so a valid key in use costs nothing here.
 */

/** Addresses tracked at most; beyond it the oldest window is dropped (most likely one that has ended). */
const MAX_ADDRESSES = 10_000

export class AuthFailures {
  /** In window-start order (a restarted window is moved to the end), so the first is the oldest. */
  #windows = new Map<string, { start: number; count: number }>()
  constructor(readonly perMinute: number) {}

  /** 0 when the address may try a key, else the seconds until it may again. */
  blockedFor(address: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0
    const w = this.#windows.get(address)
    if (!w || now - w.start >= 60_000 || w.count < this.perMinute) return 0
    return Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000))
  }

  /** Counts one failed attempt from the address. */
  fail(address: string, now = Date.now()): void {
    if (this.perMinute <= 0) return
    let w = this.#windows.get(address)
    if (!w || now - w.start >= 60_000) {
      this.#windows.delete(address)
      if (this.#windows.size >= MAX_ADDRESSES) this.#windows.delete(this.#windows.keys().next().value!)
      w = { start: now, count: 0 }
      this.#windows.set(address, w)
    }
    w.count++
  }

  /** Addresses currently tracked (bounded by MAX_ADDRESSES). */
  get size(): number {
    return this.#windows.size
  }
}
