/**
 * Request durations kept in plain arrays: route recorders (found once, at registration) of one
 * pattern write the same series, a scrape renders them as a Prometheus histogram,
 * and a registry reset starts them again without the recorders going stale.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { RouteDurations } from '../../src/route-durations.js'

const NAME = 'latchkey_http_request_duration_seconds'

async function scrape(registry: Registry): Promise<string> {
  return registry.metrics()
}

describe('RouteDurations', () => {
  it('records through route recorders into one series per route and status class', async () => {
    const registry = new Registry()
    const durations = new RouteDurations()
    durations.register(registry)
    const authorize = durations.recorder('/v1/auth/authorize')
    durations.recorder('/v1/never/called')
    authorize(200, 0.5)
    authorize(200, 3)
    // A second recorder of the same pattern writes the same series.
    durations.recorder('/v1/auth/authorize')(201, 20)
    durations.recorder('/v1/auth/authorize')(429, 1)
    durations.recorder(undefined)(404, 1)
    const text = await scrape(registry)
    expect(text).toContain(`${NAME}_count{route="/v1/auth/authorize",status_class="2xx"} 3`)
    expect(text).toContain(`${NAME}_bucket{route="/v1/auth/authorize",status_class="2xx",le="0.001"} 1`)
    expect(text).toContain(`${NAME}_bucket{route="/v1/auth/authorize",status_class="2xx",le="0.005"} 2`)
    expect(text).toContain(`${NAME}_bucket{route="/v1/auth/authorize",status_class="2xx",le="0.025"} 3`)
    expect(text).toContain(`${NAME}_sum{route="/v1/auth/authorize",status_class="2xx"} 0.0235`)
    expect(text).toContain(`${NAME}_count{route="/v1/auth/authorize",status_class="4xx"} 1`)
    expect(text).toContain(`${NAME}_count{route="unmatched",status_class="4xx"} 1`)
    // A registered route without requests has no series.
    expect(text).not.toContain('/v1/never/called')
  })

  it('keeps recorders working after a registry reset, counting from zero', async () => {
    const registry = new Registry()
    const durations = new RouteDurations()
    durations.register(registry)
    const record = durations.recorder('/v1/auth/status')
    record(200, 1)
    registry.resetMetrics()
    expect(await scrape(registry)).not.toContain('/v1/auth/status')
    record(200, 1)
    expect(await scrape(registry)).toContain(`${NAME}_count{route="/v1/auth/status",status_class="2xx"} 1`)
  })
})
