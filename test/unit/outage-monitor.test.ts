/**
 * The outage monitor opens an outage once and closes it once: also when reads succeed while
 * writes keep failing (a full disk, a read-only database), which used to log a down/up pair per
 * request.
 */
import { describe, expect, it } from 'vitest'
import { type AvailabilityEvent, OutageMonitor, StoreUnavailableError } from '../../src/storage/unavailable.js'

describe('OutageMonitor', () => {
  const setup = () => {
    let t = 1_000_000
    const events: AvailabilityEvent['kind'][] = []
    const monitor = new OutageMonitor(
      (e) => events.push(e.kind),
      2000,
      () => t,
    )
    return { monitor, events, advance: (ms: number) => (t += ms) }
  }
  const failure = () => new StoreUnavailableError('the database is unavailable (SQLITE_FULL); retry shortly', new Error('full'))

  it('stays down while writes fail between successful reads, then reports one recovery', () => {
    const { monitor, events, advance } = setup()
    for (let i = 0; i < 20; i++) {
      monitor.failed(failure())
      advance(100)
      monitor.succeeded()
      advance(100)
    }
    expect(events).toEqual(['down'])
    expect(monitor.down).toBe(true)
    advance(2000)
    monitor.succeeded()
    expect(events).toEqual(['down', 'up'])
    expect(monitor.down).toBe(false)
  })

  it('closes on the first success once failures have stopped for the settling time', () => {
    const { monitor, events, advance } = setup()
    monitor.failed(failure())
    advance(2500)
    monitor.succeeded()
    expect(events).toEqual(['down', 'up'])
  })
})
