/**
 * @module http/routes/admin-webhooks
 * `/v1/admin/webhooks`: webhook endpoints (create, list, get, update, delete, rotate secret) and
 * their deliveries (list, redeliver). A secret is in the create and rotate answers only.
 * Endpoints declared in latchkey.yaml are read-only here, except enabling and disabling.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { Webhooks } from '../../broker/webhooks.js'
import { defineRoute, register } from '../route-spec.js'
import { isoTime, isoTimeOrNull } from '../schema.js'

const events = z
  .array(z.string().min(1).max(100))
  .min(1)
  .max(50)
  .meta({
    description: 'Event types to receive: names, `<group>.*` or `*` (all).',
    examples: [['*'], ['connection.*', 'authorization.failed']],
  })

const createBody = z.object({
  url: z.string().min(1).max(2000),
  events: events.optional(),
  description: z.string().max(500).nullable().optional(),
  enabled: z.boolean().optional(),
})

const patchBody = z.object({
  url: z.string().min(1).max(2000).optional(),
  events: events.optional(),
  description: z.string().max(500).nullable().optional(),
  enabled: z.boolean().optional().meta({ description: '`true` re-enables a `failing` (or disabled) endpoint; `false` disables it.' }),
})

export const webhookEndpoint = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    status: z.enum(['enabled', 'failing', 'disabled']),
    source: z.enum(['api', 'config']).meta({ description: '`config`: declared in latchkey.yaml, read-only through the API.' }),
    failing_since: isoTimeOrNull(),
    created_at: isoTime(),
    updated_at: isoTime(),
  })
  .meta({ id: 'WebhookEndpoint' })

const createdEndpoint = webhookEndpoint.extend({
  secret: z.string().meta({ description: 'The signing secret (`whsec_…`): shown in this response only.' }),
})

const rotated = z.object({
  secret: z.string().meta({ description: 'The new signing secret (`whsec_…`): shown in this response only.' }),
  previous_secret_expires_at: isoTime().meta({ description: 'Until then deliveries carry signatures with both secrets.' }),
})

const delivery = z
  .object({
    id: z.string(),
    event_id: z.string().meta({ description: 'The `webhook-id` header: the same on every attempt and redelivery.' }),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: isoTimeOrNull(),
    delivered_at: isoTimeOrNull(),
    created_at: isoTime(),
  })
  .meta({ id: 'WebhookDelivery' })

const idParams = z.object({ id: z.string() })
const deliveryParams = z.object({ id: z.string(), delivery_id: z.string() })
const deliveriesQuery = z.object({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
})

const TAG = 'admin: webhooks'

export const listWebhooksRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/webhooks',
  operationId: 'listWebhooks',
  summary: 'Every webhook endpoint (no secrets)',
  tag: TAG,
  access: 'admin',
  responses: { 200: { description: 'All endpoints.', schema: z.object({ items: z.array(webhookEndpoint) }) } },
  errors: [],
})

export const createWebhookRoute = defineRoute({
  method: 'POST',
  path: '/v1/admin/webhooks',
  operationId: 'createWebhook',
  summary: 'Create a webhook endpoint',
  description:
    'The URL must use https (http only on loopback where insecure loopback providers are allowed) and pass the outbound guard (no private or metadata addresses unless `outbound.allow_private` lists them).',
  tag: TAG,
  access: 'admin',
  body: createBody,
  responses: { 201: { description: 'The endpoint, with its signing secret in this response only.', schema: createdEndpoint } },
  errors: ['BAD_REQUEST'],
})

export const getWebhookRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/webhooks/:id',
  operationId: 'getWebhook',
  summary: 'One webhook endpoint',
  tag: TAG,
  access: 'admin',
  params: idParams,
  responses: { 200: { description: 'The endpoint.', schema: webhookEndpoint } },
  errors: ['WEBHOOK_NOT_FOUND'],
})

export const updateWebhookRoute = defineRoute({
  method: 'PATCH',
  path: '/v1/admin/webhooks/:id',
  operationId: 'updateWebhook',
  summary: 'Change a webhook endpoint, or re-enable a failing one',
  tag: TAG,
  access: 'admin',
  params: idParams,
  body: patchBody,
  responses: { 200: { description: 'The endpoint as changed.', schema: webhookEndpoint } },
  errors: ['BAD_REQUEST', 'WEBHOOK_NOT_FOUND', 'WEBHOOK_READ_ONLY'],
})

export const deleteWebhookRoute = defineRoute({
  method: 'DELETE',
  path: '/v1/admin/webhooks/:id',
  operationId: 'deleteWebhook',
  summary: 'Delete a webhook endpoint and its deliveries',
  tag: TAG,
  access: 'admin',
  params: idParams,
  responses: { 204: { description: 'Deleted.' } },
  errors: ['WEBHOOK_NOT_FOUND', 'WEBHOOK_READ_ONLY'],
})

export const rotateWebhookSecretRoute = defineRoute({
  method: 'POST',
  path: '/v1/admin/webhooks/:id/rotate-secret',
  operationId: 'rotateWebhookSecret',
  summary: 'Rotate the signing secret (both are used for 24 h)',
  tag: TAG,
  access: 'admin',
  params: idParams,
  responses: { 200: { description: 'The new secret.', schema: rotated } },
  errors: ['WEBHOOK_NOT_FOUND', 'WEBHOOK_READ_ONLY'],
})

export const listWebhookDeliveriesRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/webhooks/:id/deliveries',
  operationId: 'listWebhookDeliveries',
  summary: "An endpoint's deliveries, newest first",
  tag: TAG,
  access: 'admin',
  params: idParams,
  query: deliveriesQuery,
  responses: { 200: { description: 'One page of deliveries.', schema: z.object({ items: z.array(delivery), total: z.number().int() }) } },
  errors: ['WEBHOOK_NOT_FOUND'],
})

export const redeliverWebhookRoute = defineRoute({
  method: 'POST',
  path: '/v1/admin/webhooks/:id/deliveries/:delivery_id/redeliver',
  operationId: 'redeliverWebhook',
  summary: 'Send a delivery again (same webhook-id)',
  tag: TAG,
  access: 'admin',
  params: deliveryParams,
  responses: { 202: { description: 'Queued.' } },
  errors: ['WEBHOOK_NOT_FOUND'],
})

export const webhookRouteSpecs = [
  listWebhooksRoute,
  createWebhookRoute,
  getWebhookRoute,
  updateWebhookRoute,
  deleteWebhookRoute,
  rotateWebhookSecretRoute,
  listWebhookDeliveriesRoute,
  redeliverWebhookRoute,
]

export function adminWebhookRoutes(app: FastifyInstance, webhooks: Webhooks): void {
  const actor = (request: { apiKey?: { id: string } | undefined }) => request.apiKey?.id ?? null

  register(app, listWebhooksRoute, async () => ({ items: await webhooks.list() }))

  register(app, createWebhookRoute, async (request, reply) => {
    const body = createBody.parse(request.body)
    const created = await webhooks.create(body, actor(request))
    return reply
      .status(201)
      .header('cache-control', 'no-store')
      .send(created satisfies z.infer<typeof createdEndpoint>)
  })

  register(app, getWebhookRoute, async (request) => webhooks.get(request.params.id))

  register(app, updateWebhookRoute, async (request) =>
    webhooks.update(request.params.id, patchBody.parse(request.body ?? {}), actor(request)),
  )

  register(app, deleteWebhookRoute, async (request, reply) => {
    await webhooks.delete(request.params.id, actor(request))
    return reply.status(204).send()
  })

  register(app, rotateWebhookSecretRoute, async (request, reply) => {
    const r = await webhooks.rotateSecret(request.params.id, actor(request))
    return reply.header('cache-control', 'no-store').send(r satisfies z.infer<typeof rotated>)
  })

  register(app, listWebhookDeliveriesRoute, async (request) => {
    const q = deliveriesQuery.parse(request.query)
    return webhooks.deliveries(request.params.id, { status: q.status }, q.limit, q.offset)
  })

  register(app, redeliverWebhookRoute, async (request, reply) => {
    await webhooks.redeliver(request.params.id, request.params.delivery_id, actor(request))
    return reply.status(202).send()
  })
}
