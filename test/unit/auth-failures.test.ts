/**
 * The per-address failure limiter on its own: fixed one-minute windows, and bounded memory under
 * a flood of addresses (the oldest window goes first, so a blocked address stays blocked).
 */
import { describe, expect, it } from 'vitest'
import { AuthFailures } from '../../src/http/auth-failures.js'

const T0 = 1_700_000_000_000

describe('AuthFailures', () => {
  it('blocks an address after N failures until its minute is over', () => {
    const f = new AuthFailures(2)
    f.fail('a', T0)
    expect(f.blockedFor('a', T0)).toBe(0)
    f.fail('a', T0 + 1000)
    expect(f.blockedFor('a', T0 + 1000)).toBe(59)
    expect(f.blockedFor('b', T0 + 1000)).toBe(0)
    expect(f.blockedFor('a', T0 + 60_000)).toBe(0)
    f.fail('a', T0 + 60_000)
    expect(f.blockedFor('a', T0 + 60_000)).toBe(0)
  })

  it('keeps at most 10 000 addresses, dropping the oldest window first', () => {
    const f = new AuthFailures(1)
    f.fail('blocked-early', T0)
    f.fail('attacker', T0 + 1)
    for (let i = 0; i < 20_000; i++) f.fail(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, T0 + 2)
    expect(f.size).toBe(10_000)
    expect(f.blockedFor('blocked-early', T0 + 3)).toBe(0)
    // A window that restarts moves to the end, so a persistent failer is not the one evicted.
    f.fail('persistent', T0 + 3)
    for (let i = 0; i < 9_999; i++) f.fail(`fd00::${i.toString(16)}`, T0 + 4)
    expect(f.blockedFor('persistent', T0 + 5)).toBeGreaterThan(0)
  })

  it('limits nothing when set to 0', () => {
    const f = new AuthFailures(0)
    for (let i = 0; i < 100; i++) f.fail('a', T0)
    expect(f.blockedFor('a', T0)).toBe(0)
    expect(f.size).toBe(0)
  })
})
