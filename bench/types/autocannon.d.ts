/** The slice of autocannon's programmatic API the benchmarks use (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    timeout?: number
    pipelining?: number
    workers?: number
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    title?: string
    verifyBody?: (body: string) => boolean
    expectBody?: string
    excludeErrorStats?: boolean
    bailout?: number
    /** Per-request overrides; `setupRequest` may rewrite the request (body, headers) each time. */
    requests?: Array<{ setupRequest?: (req: Record<string, unknown>) => Record<string, unknown> }>
  }

  /** Histogram summary: mean/stddev/min/max plus percentiles as `p50`, `p97_5`, `p99`, `p99_9`, … */
  export interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total?: number
    sent?: number
    [percentile: `p${string}`]: number
  }

  export interface Result {
    title?: string
    url: string
    connections: number
    duration: number
    start: Date
    finish: Date
    errors: number
    timeouts: number
    mismatches: number
    non2xx: number
    resets: number
    '2xx': number
    '4xx': number
    '5xx': number
    statusCodeStats: Record<string, { count: number }>
    latency: Histogram
    requests: Histogram
    throughput: Histogram
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void
  }

  function autocannon(options: Options): Instance
  export default autocannon
}
