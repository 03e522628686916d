/**
 * @module broker/webhook-events
 * The webhook events Latchkey sends and their payloads, built where the state change happens and
 * handed to the store, which writes them to the outbox in the change's own transaction.
 *
 * A payload is the Standard Webhooks shape `{type, timestamp, data}`; `data` carries ids, the
 * user id, the provider, the status and reasons: never a token, a secret or user-info claims.
 */
import { FLOW_FAILURE_CODES, type FlowFailureCode } from '@latchkey/client'
import { orderedId } from '../storage/ordered-id.js'
import type { ConnectionRow, FlowRow, OutboxEvent } from '../storage/store.js'

export const WEBHOOK_EVENT_TYPES = [
  'authorization.completed',
  'authorization.failed',
  'connection.created',
  'connection.refreshed',
  'connection.reauth_required',
  'connection.recovered',
  'connection.deleted',
  'connection.scopes_changed',
  'connection.refresh_token_expiring',
  'webhook.endpoint_failing',
] as const

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** Why an authorization failed, in the few words an app acts on (`error` keeps the precise code). */
export type AuthorizationFailureReason =
  | 'declined'
  | 'expired'
  | 'user_mismatch'
  | 'browser_mismatch'
  | 'interrupted'
  | 'provider_error'
  | 'other'

export function failureReason(code: FlowFailureCode): AuthorizationFailureReason {
  switch (code) {
    case FLOW_FAILURE_CODES.ACCESS_DENIED:
      return 'declined'
    case FLOW_FAILURE_CODES.EXPIRED:
      return 'expired'
    case FLOW_FAILURE_CODES.USER_MISMATCH:
      return 'user_mismatch'
    case FLOW_FAILURE_CODES.BROWSER_MISMATCH:
      return 'browser_mismatch'
    case FLOW_FAILURE_CODES.CALLBACK_INTERRUPTED:
      return 'interrupted'
    case FLOW_FAILURE_CODES.PROVIDER_REMOVED:
    case FLOW_FAILURE_CODES.CONNECTION_DELETED:
    case FLOW_FAILURE_CODES.REAUTH_REQUIRED:
      return 'other'
    default:
      // Provider-sent codes, a failed exchange, our credentials refused.
      return 'provider_error'
  }
}

/** An endpoint's filter matches an event type: `*`, the exact type, or a prefix wildcard (`connection.*`). */
export function eventMatches(filter: readonly string[], type: string): boolean {
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))))
}

/** A filter entry is valid when it names an event, `*` or `<group>.*`. */
export function isEventFilter(f: string): boolean {
  return (
    f === '*' ||
    (WEBHOOK_EVENT_TYPES as readonly string[]).includes(f) ||
    WEBHOOK_EVENT_TYPES.some((t) => f.endsWith('.*') && t.startsWith(f.slice(0, -1)))
  )
}

export function outboxEvent(type: WebhookEventType, orderKey: string, data: Record<string, unknown>, now = Date.now()): OutboxEvent {
  return {
    id: orderedId('msg_', now),
    type,
    order_key: orderKey,
    payload: JSON.stringify({ type, timestamp: new Date(now).toISOString(), data }),
    created_at: now,
  }
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString())

function connectionData(c: ConnectionRow): Record<string, unknown> {
  return {
    connection_id: c.id,
    user_id: c.user_id,
    provider_id: c.provider_id,
    status: c.status,
    scopes: c.scopes,
    account_id: c.account_id,
  }
}

/** What a new grant announces: the authorization, then created / recovered / scopes changed. */
export function grantEvents(
  flow: Pick<FlowRow, 'id'>,
  stored: ConnectionRow,
  existing: ConnectionRow | undefined,
  now = Date.now(),
): OutboxEvent[] {
  const key = stored.id
  const events = [
    outboxEvent(
      'authorization.completed',
      key,
      {
        authorization_id: flow.id,
        connection_id: stored.id,
        user_id: stored.user_id,
        provider_id: stored.provider_id,
        status: 'completed',
        scopes: stored.scopes,
      },
      now,
    ),
  ]
  if (!existing) {
    events.push(outboxEvent('connection.created', key, connectionData(stored), now))
    return events
  }
  if (existing.status !== 'active') {
    events.push(
      outboxEvent('connection.recovered', key, { ...connectionData(stored), previous_status: existing.status, via: 'authorization' }, now),
    )
  }
  const changed = scopesChanged(existing, stored, now)
  if (changed) events.push(changed)
  return events
}

export function scopesChanged(before: Pick<ConnectionRow, 'scopes'>, after: ConnectionRow, now = Date.now()): OutboxEvent | undefined {
  const added = after.scopes.filter((s) => !before.scopes.includes(s))
  const removed = before.scopes.filter((s) => !after.scopes.includes(s))
  if (added.length === 0 && removed.length === 0) return undefined
  return outboxEvent(
    'connection.scopes_changed',
    after.id,
    { ...connectionData(after), previous_scopes: before.scopes, added, removed },
    now,
  )
}

export function flowFailedEvent(
  flow: Pick<FlowRow, 'id' | 'user_id' | 'provider_id'>,
  error: FlowFailureCode,
  description: string,
  now = Date.now(),
): OutboxEvent {
  return outboxEvent(
    'authorization.failed',
    flow.id,
    {
      authorization_id: flow.id,
      user_id: flow.user_id,
      provider_id: flow.provider_id,
      status: 'failed',
      reason: failureReason(error),
      error,
      message: description,
    },
    now,
  )
}

/** A successful refresh: refreshed, plus recovered after failed attempts, plus scopes changed. */
export function refreshEvents(before: ConnectionRow, after: ConnectionRow, rotated: boolean, now = Date.now()): OutboxEvent[] {
  const events = [
    outboxEvent('connection.refreshed', after.id, { ...connectionData(after), expires_at: iso(after.expires_at), rotated }, now),
  ]
  if (before.refresh_failures > 0) {
    events.push(
      outboxEvent(
        'connection.recovered',
        after.id,
        { ...connectionData(after), previous_status: before.status, via: 'refresh', failed_attempts: before.refresh_failures },
        now,
      ),
    )
  }
  const changed = scopesChanged(before, after, now)
  if (changed) events.push(changed)
  return events
}

export function reauthRequiredEvent(
  c: ConnectionRow,
  reason: string,
  providerError: { error: string | null; description: string } | null,
  now = Date.now(),
): OutboxEvent {
  return outboxEvent(
    'connection.reauth_required',
    c.id,
    { ...connectionData({ ...c, status: 'reauth_required' }), reason, provider_error: providerError },
    now,
  )
}

export function deletedEvent(c: ConnectionRow, providerRevocation: string | null, now = Date.now()): OutboxEvent {
  return outboxEvent('connection.deleted', c.id, { ...connectionData(c), status: 'deleted', provider_revocation: providerRevocation }, now)
}

export function refreshTokenExpiringEvent(
  c: { id: string; user_id: string; provider_id: string; status: string; refresh_token_expires_at: number },
  now = Date.now(),
): OutboxEvent {
  return outboxEvent(
    'connection.refresh_token_expiring',
    c.id,
    {
      connection_id: c.id,
      user_id: c.user_id,
      provider_id: c.provider_id,
      status: c.status,
      refresh_token_expires_at: iso(c.refresh_token_expires_at),
    },
    now,
  )
}

export function endpointFailingEvent(endpoint: { id: string }, lastError: string, now = Date.now()): OutboxEvent {
  return outboxEvent(
    'webhook.endpoint_failing',
    endpoint.id,
    { endpoint_id: endpoint.id, status: 'failing', reason: lastError.slice(0, 200) },
    now,
  )
}
