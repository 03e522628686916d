/**
 * @module broker/refresher
 * Refresh that never loses a user. In order:
 * 1. in-process single flight: one promise per connection;
 * 2. the database lock (PostgreSQL row lock, SQLite lease) so one process in the fleet refreshes;
 * 3. re-read under the lock: if another holder refreshed meanwhile, use its token;
 * 4. call the provider, then write the new access token and (if rotated) refresh token in one
 *    statement, keeping the old refresh token when the provider returns none.
 * Failures are classified: a dead grant marks the connection `reauth_required`; our bad client
 * credentials are reported as misconfiguration; anything transient sets a cooldown and keeps
 * the current token in service while it is valid.
 */

import { asProviderError, ProviderError } from '../oauth/provider-error.js'
import { refreshAccessToken } from '../oauth/refresh-access-token.js'
import type { TokenSet } from '../oauth/token-response.js'
import { fetchUserInfo, type UserInfo } from '../oauth/user-info.js'
import type { ConnectionRow, OutboxEvent } from '../storage/store.js'
import { patchFromRefresh } from './grant.js'
import { needsRefresh, refreshBlocker, refreshDue, stillValid } from './refresh-policy.js'
import type { BrokerServices } from './services.js'
import { reauthRequiredEvent, refreshEvents } from './webhook-events.js'

export type RefreshOutcome =
  | {
      kind: 'fresh'
      connection: ConnectionRow
      refreshed: boolean
      /** The access token this refresh just sealed into `connection`, so a hand-out need not decrypt it again. */
      accessToken?: string
    }
  | { kind: 'reauth_required'; connection: ConnectionRow | undefined }
  | { kind: 'misconfigured'; connection: ConnectionRow; error: ProviderError }
  | { kind: 'transient'; connection: ConnectionRow; error: ProviderError }
  | { kind: 'gone' }

export interface RefreshOptions {
  /** Refresh even if the token is not near expiry, and even during a failure cooldown. */
  force?: boolean
  /** Refresh when the token expires within this many ms (default: the configured margin). */
  withinMs?: number
  actor?: string | null
  /**
   * Refresh only if the connection still holds the token of this generation: a caller whose
   * token was rejected (the proxy, on a 401) names the generation it used, so when several were
   * rejected at once the first refresh serves them all instead of one refresh each.
   */
  ifGeneration?: number
}

export class Refresher {
  #inflight = new Map<string, Promise<RefreshOutcome>>()

  constructor(private readonly ctx: BrokerServices) {}

  /** Refreshes if still needed once the lock is held; `force` refreshes regardless of expiry. */
  refresh(connectionId: string, options: RefreshOptions = {}): Promise<RefreshOutcome> {
    const running = this.#inflight.get(connectionId)
    if (running) return running
    const p = this.#locked(connectionId, options).finally(() => this.#inflight.delete(connectionId))
    this.#inflight.set(connectionId, p)
    return p
  }

  get inflight(): number {
    return this.#inflight.size
  }

  async #locked(connectionId: string, options: RefreshOptions): Promise<RefreshOutcome> {
    const { store, config } = this.ctx
    return store.withRefreshLock(connectionId, async ({ current, update }) => {
      if (!current) return { kind: 'gone' }
      if (current.status !== 'active') return { kind: 'reauth_required', connection: current }
      if (options.ifGeneration !== undefined && current.generation !== options.ifGeneration) {
        return { kind: 'fresh', connection: current, refreshed: false }
      }
      const now = Date.now()
      const provider = this.ctx.registry.get(current.provider_id)
      const marginMs = options.withinMs ?? config.refreshMarginSeconds * 1000
      // A connection whose provider was removed is due like any other, so it gets its cooldown below.
      const due = provider ? refreshDue(current, provider.refreshEnabled, now, marginMs) : needsRefresh(current, now, marginMs)
      if (!options.force && !due) {
        return { kind: 'fresh', connection: current, refreshed: false }
      }
      if (!provider) {
        const error = new ProviderError('invalid_client', `provider ${current.provider_id} is no longer configured`)
        // A cooldown keeps such connections from filling every background-refresh batch.
        await update({ last_refresh_error: error.message, refresh_cooldown_until: now + this.ctx.config.refreshCooldownSeconds * 1000 })
        return { kind: 'misconfigured', connection: current, error }
      }
      const blocked = refreshBlocker(current, provider.refreshEnabled, now, options.force)
      if (blocked === 'cooling_down') {
        return {
          kind: 'transient',
          connection: current,
          error: new ProviderError('transient', current.last_refresh_error ?? 'refresh is cooling down after a failure'),
        }
      }
      if (blocked !== undefined) {
        // Nothing to refresh with: a still-valid token serves until it expires.
        if (stillValid(current, now)) return { kind: 'fresh', connection: current, refreshed: false }
        const reason = blocked === 'refresh_token_expired' ? 'refresh_token_expired' : 'expired_without_refresh_token'
        const message = blocked === 'refresh_token_expired' ? 'refresh token expired' : 'access token expired and there is no refresh token'
        await update({ status: 'reauth_required', last_refresh_error: message, updated_at: now }, [
          reauthRequiredEvent(current, reason, null, now),
        ])
        this.#record(current, 'connection.reauth_required', options.actor, { reason })
        return { kind: 'reauth_required', connection: { ...current, status: 'reauth_required' } }
      }

      const refreshToken = this.ctx.vault.refreshToken(current)!
      const stopTimer = this.ctx.metrics.refreshSeconds.startTimer({ provider: provider.id })
      let tokens: TokenSet
      try {
        tokens = provider.mcp
          ? await this.ctx.mcp.refresh(provider, current.id, refreshToken, current.scopes)
          : await refreshAccessToken(provider, refreshToken, current.scopes, this.ctx.http)
      } catch (err) {
        const error = asProviderError(err)
        return this.#failed(current, error, update, options.actor)
      } finally {
        stopTimer()
      }

      let info: UserInfo | undefined
      if (provider.def.userInfo?.triggers?.onTokenRefresh) {
        try {
          info = await fetchUserInfo(provider, tokens.accessToken, this.ctx.http)
        } catch (err) {
          this.ctx.log.warn(
            { connection: current.id, provider: provider.id, err: (err as Error).message },
            'user info on refresh failed; keeping the previous user info',
          )
        }
      }
      const patch = patchFromRefresh(current, tokens, info, provider.def, Date.now(), this.ctx.vault)
      const after = { ...current, ...patch, generation: current.generation + 1 } as ConnectionRow
      if (!(await update(patch, refreshEvents(current, after, tokens.refreshToken !== undefined)))) {
        // A new grant landed while we refreshed (SQLite's lease does not block it): it wins.
        const latest = await this.ctx.store.getConnectionById(current.id)
        return latest?.status === 'active'
          ? { kind: 'fresh', connection: latest, refreshed: false }
          : { kind: 'reauth_required', connection: latest }
      }
      this.ctx.metrics.refreshes.inc({ provider: provider.id, outcome: 'ok' })
      this.#record(current, 'connection.refreshed', options.actor, { rotated: tokens.refreshToken !== undefined })
      return { kind: 'fresh', connection: after, refreshed: true, accessToken: tokens.accessToken }
    })
  }

  async #failed(
    current: ConnectionRow,
    error: ProviderError,
    update: (patch: Partial<ConnectionRow>, events?: readonly OutboxEvent[]) => Promise<boolean>,
    actor: string | null | undefined,
  ): Promise<RefreshOutcome> {
    const now = Date.now()
    const message = error.message.slice(0, 500)
    this.ctx.metrics.refreshes.inc({ provider: current.provider_id, outcome: error.kind })
    this.ctx.log.warn(
      { connection: current.id, provider: current.provider_id, kind: error.kind, error: error.error, status: error.httpStatus },
      `refresh failed: ${message}`,
    )
    if (error.kind === 'invalid_grant') {
      await update(
        {
          status: 'reauth_required',
          last_refresh_error: message,
          refresh_failures: current.refresh_failures + 1,
          updated_at: now,
        },
        [reauthRequiredEvent(current, 'invalid_grant', { error: error.error ?? 'invalid_grant', description: message }, now)],
      )
      this.#record(current, 'connection.reauth_required', actor, { reason: error.error ?? 'invalid_grant' })
      return { kind: 'reauth_required', connection: { ...current, status: 'reauth_required' } }
    }
    const cooldown = now + this.ctx.config.refreshCooldownSeconds * 1000
    const failures = current.refresh_failures + 1
    await update({ last_refresh_error: message, refresh_failures: failures, refresh_cooldown_until: cooldown, updated_at: now })
    this.#record(current, 'connection.refresh_failed', actor, { kind: error.kind, error: error.error ?? null, failures })
    const connection = { ...current, last_refresh_error: message, refresh_failures: failures, refresh_cooldown_until: cooldown }
    return error.kind === 'invalid_client' ? { kind: 'misconfigured', connection, error } : { kind: 'transient', connection, error }
  }

  #record(
    c: ConnectionRow,
    action: 'connection.refreshed' | 'connection.refresh_failed' | 'connection.reauth_required',
    actor: string | null | undefined,
    detail: Record<string, unknown>,
  ): void {
    this.ctx.audit.record({ actor: actor ?? null, action, user_id: c.user_id, provider_id: c.provider_id, connection_id: c.id, detail })
  }
}
