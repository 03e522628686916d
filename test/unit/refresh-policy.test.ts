/** When a token is refreshed (`src/broker/refresh-policy.ts`): the rules the hand-out and the refresher share. */
import { describe, expect, it } from 'vitest'
import { canRefresh, needsRefresh, refreshBlocker, refreshDue, refreshMargin } from '../../src/broker/refresh-policy.js'

const NOW = 1_800_000_000_000
const MIN = 60_000
const row = (over: object = {}) => ({
  expires_at: NOW + 60 * MIN,
  token_issued_at: NOW - 60 * MIN,
  refresh_token_enc: 'sealed',
  refresh_token_expires_at: null,
  refresh_cooldown_until: null,
  ...over,
})

describe('refresh margin', () => {
  it('is the configured margin, at most half the token’s lifetime', () => {
    expect(refreshMargin(row(), 5 * MIN)).toBe(5 * MIN)
    expect(refreshMargin(row({ expires_at: NOW + 2 * MIN, token_issued_at: NOW - 2 * MIN }), 5 * MIN)).toBe(2 * MIN)
    expect(refreshMargin(row({ token_issued_at: null }), 5 * MIN)).toBe(5 * MIN)
  })

  it('needsRefresh: within the margin or expired; never for a token without expiry', () => {
    expect(needsRefresh(row(), NOW, 5 * MIN)).toBe(false)
    expect(needsRefresh(row({ expires_at: NOW + 4 * MIN }), NOW, 5 * MIN)).toBe(true)
    expect(needsRefresh(row({ expires_at: NOW - 1 }), NOW, 5 * MIN)).toBe(true)
    expect(needsRefresh(row({ expires_at: null }), NOW, 5 * MIN)).toBe(false)
  })
})

describe('canRefresh', () => {
  it('names what stops a refresh', () => {
    expect(refreshBlocker(row(), true, NOW)).toBeUndefined()
    expect(refreshBlocker(row({ refresh_token_enc: null }), true, NOW)).toBe('no_refresh_token')
    expect(refreshBlocker(row(), false, NOW)).toBe('no_refresh_token')
    expect(refreshBlocker(row({ refresh_token_expires_at: NOW }), true, NOW)).toBe('refresh_token_expired')
    expect(refreshBlocker(row({ refresh_cooldown_until: NOW + 1 }), true, NOW)).toBe('cooling_down')
    expect(canRefresh(row({ refresh_cooldown_until: NOW + 1 }), true, NOW, true)).toBe(true)
  })
})

describe('refreshDue', () => {
  const soon = { expires_at: NOW + MIN }
  it('is due inside the margin when a refresh can be tried', () => {
    expect(refreshDue(row(soon), true, NOW, 5 * MIN)).toBe(true)
    expect(refreshDue(row(), true, NOW, 5 * MIN)).toBe(false)
  })

  it('a still-valid token with nothing to refresh with is served as it is', () => {
    expect(refreshDue(row({ ...soon, refresh_token_enc: null }), true, NOW, 5 * MIN)).toBe(false)
    expect(refreshDue(row({ ...soon, refresh_cooldown_until: NOW + MIN }), true, NOW, 5 * MIN)).toBe(false)
    // The hand-out and the refresher agree on an expired refresh token (the hand-out used not to look).
    expect(refreshDue(row({ ...soon, refresh_token_expires_at: NOW - 1 }), true, NOW, 5 * MIN)).toBe(false)
  })

  it('an expired token is always due (the refresher then refreshes or asks for re-authorization)', () => {
    expect(refreshDue(row({ expires_at: NOW - 1, refresh_token_enc: null }), false, NOW, 5 * MIN)).toBe(true)
  })
})
