/**
 * Open-loop load at a fixed rate, for latency goals: request i is due at start + i / rate and its
 * latency is counted from that moment, so a server (or a load generator) that falls behind shows
 * it as latency instead of silently sending fewer requests. autocannon's `overallRate` sends each
 * second's requests as fast as it can at the start of the second and measures whole milliseconds:
 * bursts that queue and a resolution as coarse as a 1 ms goal. Here requests go out one by one on
 * their schedule over an undici pool of `connections`, and latencies are kept in microseconds.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { latencyStats } from './latency.js'

export interface PacedTarget {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  verifyBody?: (body: string) => boolean
  connections: number
  rate: number
}

export interface PacedResult {
  durationSeconds: number
  total: number
  /** Latencies in ms, from each request's scheduled time to the end of its answer. */
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number }
  non2xx: number
  errors: number
  mismatches: number
}

export async function paced(target: PacedTarget, seconds: number): Promise<PacedResult> {
  const url = new URL(target.url)
  const pool = new Pool(url.origin, { connections: target.connections, pipelining: 1 })
  const latencies: number[] = []
  let non2xx = 0
  let errors = 0
  let mismatches = 0
  const count = Math.round(target.rate * seconds)
  const interval = 1000 / target.rate
  const inFlight = new Set<Promise<void>>()
  const start = performance.now()
  const one = async (due: number): Promise<void> => {
    try {
      const res = await pool.request({
        path: url.pathname + url.search,
        method: target.method ?? 'GET',
        ...(target.headers ? { headers: target.headers } : {}),
        ...(target.body !== undefined ? { body: target.body } : {}),
      })
      const text = await res.body.text()
      latencies.push(performance.now() - due)
      if (res.statusCode < 200 || res.statusCode >= 300) non2xx++
      else if (target.verifyBody && !target.verifyBody(text)) mismatches++
    } catch {
      // A failed request counts with the time it took to fail: a server that times out must
      // not look faster for it.
      latencies.push(performance.now() - due)
      errors++
    }
  }
  try {
    for (let i = 0; i < count; ) {
      const now = performance.now()
      // Everything due by now goes out (a late timer sends the missed ones at once, and their
      // latency counts from when they were due).
      while (i < count && start + i * interval <= now) {
        const p = one(start + i * interval)
        inFlight.add(p)
        void p.finally(() => inFlight.delete(p))
        i++
      }
      if (i < count) await sleep(Math.max(0, start + i * interval - performance.now()))
    }
    await Promise.all(inFlight)
  } finally {
    await pool.close()
  }
  return {
    durationSeconds: (performance.now() - start) / 1000,
    total: count,
    latencyMs: latencyStats(latencies),
    non2xx,
    errors,
    mismatches,
  }
}
