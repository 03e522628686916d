/**
 * @module http/webhook-docs
 * The webhook events as the OpenAPI document's `webhooks` section: one entry per event type,
 * with the body schema and an example payload (as `broker/webhook-events.ts` builds them).
 */
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../broker/webhook-events.js'

const at = '2026-12-01T12:00:00.000Z'
const base = {
  connection_id: 'con_Q2b9…',
  user_id: 'alice',
  provider_id: 'google',
  status: 'active',
  scopes: ['openid', 'email'],
  account_id: '1087…',
}

const EXAMPLES: Record<WebhookEventType, { summary: string; data: Record<string, unknown> }> = {
  'authorization.completed': {
    summary: 'A flow stored its grant.',
    data: {
      authorization_id: 'fl_8Xk…',
      connection_id: base.connection_id,
      user_id: 'alice',
      provider_id: 'google',
      status: 'completed',
      scopes: base.scopes,
    },
  },
  'authorization.failed': {
    summary:
      'A flow failed: reason is declined, expired, user_mismatch, browser_mismatch, interrupted, provider_error or other; error is the precise failure code.',
    data: {
      authorization_id: 'fl_8Xk…',
      user_id: 'alice',
      provider_id: 'google',
      status: 'failed',
      reason: 'declined',
      error: 'access_denied',
      message: 'the user declined the authorization',
    },
  },
  'connection.created': { summary: 'The first grant for the user and provider.', data: base },
  'connection.refreshed': {
    summary: 'A refresh stored a new access token.',
    data: { ...base, expires_at: '2026-12-01T13:00:00.000Z', rotated: true },
  },
  'connection.reauth_required': {
    summary: 'The grant died: the user must authorize again.',
    data: {
      ...base,
      status: 'reauth_required',
      reason: 'invalid_grant',
      provider_error: { error: 'invalid_grant', description: 'Token has been expired or revoked.' },
    },
  },
  'connection.recovered': {
    summary: 'Active again: a new grant after reauth_required (via authorization) or a refresh after failed attempts (via refresh).',
    data: { ...base, previous_status: 'reauth_required', via: 'authorization' },
  },
  'connection.deleted': {
    summary: 'Deleted through the API or CLI.',
    data: { ...base, status: 'deleted', provider_revocation: 'revoked' },
  },
  'connection.scopes_changed': {
    summary: 'A grant or refresh changed the granted scopes.',
    data: { ...base, scopes: ['openid'], previous_scopes: ['openid', 'email'], added: [], removed: ['email'] },
  },
  'connection.refresh_token_expiring': {
    summary: 'The refresh token expires within the configured lead time (sent once per expiry).',
    data: {
      connection_id: base.connection_id,
      user_id: 'alice',
      provider_id: 'linkedin',
      status: 'active',
      refresh_token_expires_at: '2026-12-04T12:00:00.000Z',
    },
  },
  'webhook.endpoint_failing': {
    summary: 'Another endpoint was marked failing after the retry window; nothing is sent to it until it is re-enabled.',
    data: { endpoint_id: 'wh_3Fq…', status: 'failing', reason: 'HTTP 503' },
  },
}

const HEADERS = {
  'webhook-id': { description: 'The event id: the same on every retry and redelivery (deduplicate on it).', schema: { type: 'string' } },
  'webhook-timestamp': { description: 'Unix seconds of this attempt.', schema: { type: 'string' } },
  'webhook-signature': {
    description: '`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the whsec_ secret; two, space-separated, during a secret rotation.',
    schema: { type: 'string' },
  },
}

export function webhookDocs(): Record<string, unknown> {
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook_${type.replace('.', '_')}`,
          summary: EXAMPLES[type].summary,
          tags: ['webhooks'],
          parameters: Object.entries(HEADERS).map(([name, h]) => ({ name, in: 'header', required: true, ...h })),
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['type', 'timestamp', 'data'],
                  properties: {
                    type: { type: 'string', const: type },
                    timestamp: { type: 'string', format: 'date-time' },
                    data: {
                      type: 'object',
                      description: 'Ids, the user id, the provider, the status and reasons; never a token or secret.',
                    },
                  },
                },
                example: { type, timestamp: at, data: EXAMPLES[type].data },
              },
            },
          },
          responses: { '200': { description: 'Any 2xx settles the delivery; anything else is retried.' } },
        },
      },
    ]),
  )
}
