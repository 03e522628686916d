/**
 * @module broker/refresh-policy
 * When a token is refreshed, in one place: the hand-out (`tokens.ts`, before taking any lock)
 * and the refresher (`refresher.ts`, again under the lock) ask the same questions, so the two
 * cannot drift apart. Pure functions of the row, the time and the settings.
 */
import type { ConnectionRow } from '../storage/store.js'

type Expiry = Pick<ConnectionRow, 'expires_at' | 'token_issued_at'>
type Refreshable = Expiry & Pick<ConnectionRow, 'refresh_token_enc' | 'refresh_token_expires_at' | 'refresh_cooldown_until'>

/**
 * How long before expiry a token is refreshed: the configured margin, but at most half the
 * token's lifetime. A provider whose tokens live no longer than the margin (Keycloak's default
 * is 5 minutes, like our margin) would otherwise have its token refreshed on every hand-out.
 */
export function refreshMargin(c: Expiry, marginMs: number): number {
  if (c.expires_at === null || c.token_issued_at === null) return marginMs
  return Math.min(marginMs, Math.max(0, c.expires_at - c.token_issued_at) / 2)
}

/** True when the access token expires within the refresh margin (or already has). */
export function needsRefresh(c: Expiry, now: number, marginMs: number): boolean {
  return c.expires_at !== null && c.expires_at - now <= refreshMargin(c, marginMs)
}

export function stillValid(c: Pick<ConnectionRow, 'expires_at'>, now: number): boolean {
  return c.expires_at === null || c.expires_at > now
}

/**
 * Why a refresh cannot be tried now, or undefined when it can: no refresh token (or refresh off
 * for the provider), the refresh token has expired, or a cooldown after a failure is running
 * (ignored by a forced refresh).
 */
export function refreshBlocker(
  c: Refreshable,
  refreshEnabled: boolean,
  now: number,
  ignoreCooldown = false,
): 'no_refresh_token' | 'refresh_token_expired' | 'cooling_down' | undefined {
  if (c.refresh_token_enc === null || !refreshEnabled) return 'no_refresh_token'
  if (c.refresh_token_expires_at !== null && c.refresh_token_expires_at <= now) return 'refresh_token_expired'
  if (!ignoreCooldown && c.refresh_cooldown_until !== null && c.refresh_cooldown_until > now) return 'cooling_down'
  return undefined
}

export function canRefresh(c: Refreshable, refreshEnabled: boolean, now: number, ignoreCooldown = false): boolean {
  return refreshBlocker(c, refreshEnabled, now, ignoreCooldown) === undefined
}

/**
 * Whether a token must go through the refresher before it is handed out: it expires within the
 * margin and a refresh can be tried, or it has already expired (the refresher then decides
 * between a refresh and `reauth_required`). Inside the margin with nothing to do, a still-valid
 * token is served without taking the refresh lock.
 */
export function refreshDue(c: Refreshable, refreshEnabled: boolean, now: number, marginMs: number): boolean {
  if (!needsRefresh(c, now, marginMs)) return false
  return canRefresh(c, refreshEnabled, now) || !stillValid(c, now)
}
