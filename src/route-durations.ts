/**
 * @module route-durations
 * `latchkey_http_request_duration_seconds{route, status_class}`: a Prometheus histogram kept in
 * plain arrays. prom-client's `Histogram.observe` (also through `labels(...)`) hashes the label
 * values on every call; here a request costs an array index by status class and a short bucket
 * scan on series its route found once, when it was registered (`recorder`). The series are
 * rendered at scrape time. Labels are bounded: route patterns come from the registered routes
 * (unmatched URLs are `route="unmatched"`), never the raw URL.
 */
import type { Registry } from 'prom-client'

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const
const NAME = 'latchkey_http_request_duration_seconds'

interface Series {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  buckets: Float64Array
  sum: number
  count: number
}

export class RouteDurations {
  #byRoute = new Map<string, Array<Series | undefined>>()

  /**
   * The recorder of one route pattern, resolved once (at route registration): what a request
   * pays is then only the status class and the bucket scan, not a lookup by its route.
   */
  recorder(route: string | undefined): (statusCode: number, ms: number) => void {
    const classes = this.#classes(route)
    return (statusCode, ms) => record(classes, statusCode, ms)
  }

  #classes(route: string | undefined): Array<Series | undefined> {
    const key = route ?? 'unmatched'
    let classes = this.#byRoute.get(key)
    if (classes === undefined) {
      classes = [undefined, undefined, undefined, undefined, undefined]
      this.#byRoute.set(key, classes)
    }
    return classes
  }

  /** Registers the histogram on a prom-client registry (rendered from the arrays at each scrape). */
  register(registry: Registry): void {
    const values = () => {
      const out: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = []
      for (const [route, classes] of this.#byRoute) {
        classes.forEach((s, c) => {
          if (s === undefined) return
          const labels = { route, status_class: CLASSES[c]! }
          let cumulative = 0
          BUCKETS.forEach((le, i) => {
            cumulative += s.buckets[i]!
            out.push({ metricName: `${NAME}_bucket`, labels: { ...labels, le }, value: cumulative })
          })
          out.push({ metricName: `${NAME}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.count })
          out.push({ metricName: `${NAME}_sum`, labels, value: s.sum })
          out.push({ metricName: `${NAME}_count`, labels, value: s.count })
        })
      }
      return out
    }
    const help = 'HTTP request duration by route pattern and status class'
    // prom-client's Metric contract: what the registry asks of a metric to render it.
    registry.registerMetric({
      name: NAME,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name: NAME, help, type: 'histogram', values: values(), aggregator: 'sum' }),
      // In place: recorders hold their route's array.
      reset: () => {
        for (const classes of this.#byRoute.values()) classes.fill(undefined)
      },
    } as unknown as Parameters<Registry['registerMetric']>[0])
  }
}

function record(classes: Array<Series | undefined>, statusCode: number, ms: number): void {
  const c = Math.min(4, Math.max(0, Math.floor(statusCode / 100) - 1))
  let s = classes[c]
  if (s === undefined) classes[c] = s = { buckets: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 }
  const seconds = ms / 1000
  let i = 0
  while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++
  s.buckets[i]!++
  s.sum += seconds
  s.count++
}
