/**
 * @module http/routes/auth
 * Arcade's runtime auth API: `POST /v1/auth/authorize`, `GET /v1/auth/status`,
 * `POST /v1/auth/confirm_user` (wire doc §3, §4, §6), and the extension
 * `GET /v1/auth/verification` (custom verification: the account waiting to be confirmed).
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { type AuthorizeInput, authorize, status } from '../../broker/flows.js'
import { confirmUser, pendingVerification } from '../../broker/confirm-user.js'
import type { BrokerContext } from '../../broker/context.js'
import { LatchkeyError } from '../../errors.js'
import { jsonSchema, printable } from '../schema.js'

export const authorizeBody = z.object({
  user_id: printable(256),
  auth_requirement: z.object({
    id: printable(100).optional(),
    provider_id: printable(100).optional(),
    provider_type: z.string().max(50).optional(),
    oauth2: z.object({ scopes: z.array(printable(512)).max(100).nullish() }).nullish(),
  }),
  next_uri: z.string().max(2048).nullish(),
})

const statusQuery = z.object({
  id: printable(100),
  // Arcade documents max 59; we clamp rather than reject so SDK defaults always work.
  wait: z.coerce.number().int().min(0).optional(),
})

const confirmBody = z.object({ flow_id: printable(100), user_id: printable(256) })
const verificationQuery = z.object({ flow_id: printable(100) })

/**
 * The hot path's body is checked by Fastify's compiled JSON Schema validator (ajv) before the
 * handler runs: measured on the load test, a zod parse per call cost about as much as the rest
 * of the handler. The zod schema stays the one definition (and the TypeScript type).
 */
const authorizeBodySchema = jsonSchema(authorizeBody)

export function authRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  app.post('/v1/auth/authorize', { schema: { body: authorizeBodySchema } }, (request, reply) => {
    const body = request.body as z.output<typeof authorizeBody>
    const req = body.auth_requirement
    if (req.provider_type !== undefined && req.provider_type !== 'oauth2') {
      throw new LatchkeyError('BAD_REQUEST', 'auth_requirement.provider_type: only "oauth2" is supported')
    }
    const input: AuthorizeInput = {
      userId: body.user_id,
      provider: { id: req.id, provider_id: req.provider_id },
      scopes: req.oauth2?.scopes ?? [],
      nextUri: body.next_uri ?? undefined,
      actor: request.apiKey?.id ?? null,
    }
    const answer = authorize(ctx, input)
    if (typeof answer !== 'string') return answer
    // A connected user's prepared body (the hot path), sent as it is.
    void reply.type('application/json; charset=utf-8').send(answer)
    return undefined
  })

  app.get('/v1/auth/status', async (request) => {
    const q = statusQuery.parse(request.query)
    const waitMs = Math.min(q.wait ?? 0, 59) * 1000
    const abort = new AbortController()
    const onClose = () => abort.abort()
    request.raw.once('close', onClose)
    try {
      const result = await status(ctx, q.id, waitMs, request.apiKey?.id ?? null, abort.signal)
      // Arcade's generated SDKs loop until `completed`; holding a failed answer for a few seconds
      // keeps them from spinning (our SDK stops on `failed`, and says so in its headers).
      if (result.status === 'failed' && waitMs > 0 && request.headers['x-stainless-lang'] !== undefined) {
        await new Promise((r) => setTimeout(r, Math.min(waitMs, 5000)))
      }
      return result
    } finally {
      request.raw.off('close', onClose)
    }
  })

  // Latchkey extension: what waits to be confirmed (which provider account), for the verifier to show.
  app.get('/v1/auth/verification', async (request) => {
    const q = verificationQuery.parse(request.query)
    return pendingVerification(ctx, q.flow_id)
  })

  app.post('/v1/auth/confirm_user', async (request) => {
    const body = confirmBody.parse(request.body)
    return confirmUser(ctx, body.flow_id, body.user_id, request.apiKey?.id ?? null)
  })
}
