/**
 * @module http/routes/accounts
 * Latchkey extension for apps: `POST /v1/auth/mark_invalid` (a credential stopped working).
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { markConnectionInvalid } from '../../broker/mark-invalid.js'
import { defineRoute, register } from '../route-spec.js'
import { printable } from '../schema.js'

const markInvalidBody = z.object({
  user_id: printable(256),
  connection_id: printable(100).meta({ description: 'The connection (`cn_…`, the `account.connection_id` of a completed authorize).' }),
})

const markInvalidResponse = z.object({
  connection_id: z.string(),
  status: z.enum(['active', 'reauth_required', 'revoked']),
})

export const markInvalidRoute = defineRoute({
  method: 'POST',
  path: '/v1/auth/mark_invalid',
  operationId: 'markInvalid',
  summary: 'Tell Latchkey a credential no longer works (the service rejected it)',
  description:
    'Latchkey extension. The connection becomes `reauth_required`: authorize and status stop handing it out, and the next authorize for it answers with a link whose grant (or newly entered API key) replaces it.',
  tag: 'auth',
  access: 'runtime',
  body: markInvalidBody,
  responses: { 200: { description: 'The connection, now reauth_required.', schema: markInvalidResponse } },
  errors: ['BAD_REQUEST', 'CONNECTION_NOT_FOUND'],
})

export const accountRouteSpecs = [markInvalidRoute]

export function accountRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(app, markInvalidRoute, async (request) => {
    const body = markInvalidBody.parse(request.body)
    const c = await markConnectionInvalid(ctx, body.user_id, body.connection_id, request.apiKey?.id ?? null)
    return { connection_id: c.id, status: c.status }
  })
}
