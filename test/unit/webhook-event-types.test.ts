/**
 * The SDK declares the webhook event payloads itself (it depends on nothing of the server); this
 * fails when they drift: the event type names (at compile time and at run time), and each type's
 * `data` keys in what the server's builders emit and in the OpenAPI examples.
 */
import {
  WEBHOOK_EVENT_TYPES as SDK_EVENT_TYPES,
  type WebhookEventType as SdkEventType,
  type verifyWebhook,
  type WebhookEventDataMap,
} from '@latchkey/client'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  deletedEvent,
  endpointFailingEvent,
  flowFailedEvent,
  grantEvents,
  reauthRequiredEvent,
  refreshEvents,
  refreshTokenExpiringEvent,
  WEBHOOK_EVENT_TYPES as SERVER_EVENT_TYPES,
  type WebhookEventType as ServerEventType,
} from '../../src/broker/webhook-events.js'
import { webhookDocs } from '../../src/http/webhook-docs.js'
import type { ConnectionRow, OutboxEvent } from '../../src/storage/store.js'

/** Every key of T, marked `optional` where T's key is optional: the compiler checks the marks and that none is missing or extra. */
type KeyMarks<T> = { [K in keyof T]-?: object extends Pick<T, K> ? 'optional' : 'required' }

const DATA_KEYS: { [T in SdkEventType]: KeyMarks<WebhookEventDataMap[T]> } = {
  'authorization.completed': {
    authorization_id: 'required',
    connection_id: 'required',
    user_id: 'required',
    provider_id: 'required',
    status: 'required',
    scopes: 'required',
  },
  'authorization.failed': {
    authorization_id: 'required',
    user_id: 'required',
    provider_id: 'required',
    status: 'required',
    reason: 'required',
    error: 'required',
    message: 'required',
  },
  'connection.created': connectionKeys({}),
  'connection.refreshed': connectionKeys({ expires_at: 'required', rotated: 'required' }),
  'connection.reauth_required': connectionKeys({ reason: 'required', provider_error: 'required' }),
  'connection.recovered': connectionKeys({ previous_status: 'required', via: 'required', failed_attempts: 'optional' }),
  'connection.deleted': connectionKeys({ provider_revocation: 'required' }),
  'connection.scopes_changed': connectionKeys({ previous_scopes: 'required', added: 'required', removed: 'required' }),
  'connection.refresh_token_expiring': {
    connection_id: 'required',
    user_id: 'required',
    provider_id: 'required',
    status: 'required',
    refresh_token_expires_at: 'required',
  },
  'webhook.endpoint_failing': { endpoint_id: 'required', status: 'required', reason: 'required' },
}

function connectionKeys<T extends Record<string, 'required' | 'optional'>>(extra: T) {
  const base = {
    connection_id: 'required',
    user_id: 'required',
    provider_id: 'required',
    status: 'required',
    scopes: 'required',
    account_id: 'required',
  } as const
  return { ...base, ...extra }
}

const connection = (over: Partial<ConnectionRow> = {}): ConnectionRow =>
  ({
    id: 'con_1',
    user_id: 'alice',
    provider_id: 'github',
    status: 'active',
    scopes: ['repo'],
    account_id: '42',
    expires_at: Date.now() + 3600_000,
    refresh_failures: 0,
    ...over,
  }) as ConnectionRow

/** One of each event type, as the server's builders make them. */
function serverEvents(): OutboxEvent[] {
  const before = connection({ status: 'reauth_required', scopes: ['repo', 'gist'], refresh_failures: 2 })
  const after = connection()
  return [
    ...grantEvents({ id: 'fl_1' }, after, undefined),
    ...grantEvents({ id: 'fl_2' }, after, before),
    ...refreshEvents(before, after, true),
    flowFailedEvent({ id: 'fl_3', user_id: 'alice', provider_id: 'github' }, 'access_denied', 'the user declined'),
    reauthRequiredEvent(after, 'invalid_grant', { error: 'invalid_grant', description: 'revoked' }),
    deletedEvent(after, 'revoked'),
    refreshTokenExpiringEvent({ ...after, refresh_token_expires_at: Date.now() + 86_400_000 }),
    endpointFailingEvent({ id: 'wh_1' }, 'HTTP 503'),
  ]
}

function expectKeys(type: string, data: Record<string, unknown>, where: string) {
  expect(SDK_EVENT_TYPES, `${where}: ${type} is not an SDK event type`).toContain(type)
  const marks = DATA_KEYS[type as SdkEventType] as Record<string, 'required' | 'optional'>
  const required = Object.keys(marks).filter((k) => marks[k] === 'required')
  expect(
    Object.keys(data).filter((k) => !(k in marks)),
    `${where}: ${type} data keys the SDK does not declare`,
  ).toEqual([])
  expect(
    required.filter((k) => !(k in data)),
    `${where}: ${type} data keys the SDK declares required but the server does not send`,
  ).toEqual([])
}

describe('webhook event types: SDK vs server', () => {
  it('names the same event types', () => {
    expectTypeOf<SdkEventType>().toEqualTypeOf<ServerEventType>()
    expect([...SDK_EVENT_TYPES].sort()).toEqual([...SERVER_EVENT_TYPES].sort())
  })

  it("declares the data keys of every event the server's builders emit", () => {
    const events = serverEvents()
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(SERVER_EVENT_TYPES))
    for (const e of events) {
      const body = JSON.parse(e.payload) as { type: string; data: Record<string, unknown> }
      expect(body.type).toBe(e.type)
      expectKeys(e.type, body.data, `builder (${e.id})`)
    }
  })

  it('declares the data keys of every OpenAPI example', () => {
    const docs = webhookDocs() as Record<
      string,
      { post: { requestBody: { content: { 'application/json': { example: { type: string; data: Record<string, unknown> } } } } } }
    >
    expect(Object.keys(docs).sort()).toEqual([...SDK_EVENT_TYPES].sort())
    for (const [type, doc] of Object.entries(docs))
      expectKeys(type, doc.post.requestBody.content['application/json'].example.data, 'OpenAPI')
  })

  it('verifyWebhook returns the event typed by its type', () => {
    expectTypeOf<Awaited<ReturnType<typeof verifyWebhook>>['type']>().toEqualTypeOf<SdkEventType>()
    type Refreshed = Extract<Awaited<ReturnType<typeof verifyWebhook>>, { type: 'connection.refreshed' }>
    expectTypeOf<Refreshed['data']>().toEqualTypeOf<WebhookEventDataMap['connection.refreshed']>()
  })
})
