/**
 * @module http/routes/auth
 * Arcade's runtime auth API: `POST /v1/auth/authorize`, `GET /v1/auth/status`,
 * `POST /v1/auth/confirm_user` (wire doc §3, §4, §6), and the extension
 * `GET /v1/auth/verification` (custom verification: the account waiting to be confirmed).
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { confirmUser, pendingVerification } from '../../broker/confirm-user.js'
import type { AuthorizationResponse, BrokerContext } from '../../broker/context.js'
import { type AuthorizeInput, authorize, type Cancellation, status } from '../../broker/flows.js'
import { LatchkeyError } from '../../errors.js'
import { defineRoute, register, type Same } from '../route-spec.js'
import { jsonSchema, printable } from '../schema.js'

export const authorizeBody = z.object({
  user_id: printable(256),
  auth_requirement: z.object({
    id: printable(100).optional(),
    provider_id: printable(100).optional().meta({
      description:
        'The provider: its id, or its catalog type when one configured provider has it. An MCP server declared as a provider (`type: mcp`) is named the same way.',
    }),
    provider_type: z
      .string()
      .max(50)
      .optional()
      .meta({ description: 'Only `oauth2` (what Arcade’s SDKs send), for MCP-server providers too: they are OAuth 2.1 servers.' }),
    oauth2: z.object({ scopes: z.array(printable(512)).max(100).nullish() }).nullish(),
    mcp: z
      .object({ server_url: z.string().min(1).max(2048) })
      .nullish()
      .meta({
        description:
          'Latchkey extension: an MCP server named by the app instead of a provider id, allowed when its origin is in LATCHKEY_MCP_DYNAMIC_ORIGINS. The answer’s `provider_id` is the server’s stable provider id (`mcp-…`).',
      }),
  }),
  next_uri: z.string().max(2048).nullish(),
  account: printable(320).optional().meta({
    description:
      "Latchkey extension: which of the user's accounts for the provider — a connection id (`cn_…`), or an account hint (the provider's account id, or the account's email/label). Without it: the user's default account for the provider (the first connected, later the one most recently granted through an authorize without `account`). A hint matching no connected account starts a flow for a new one (sent to the provider as `login_hint` where it takes one); an unknown connection id is 404 `CONNECTION_NOT_FOUND`.",
  }),
})

const statusQuery = z.object({
  id: printable(100),
  // Arcade documents max 59; we clamp rather than reject so SDK defaults always work.
  wait: z.coerce.number().int().min(0).optional(),
})

const confirmBody = z.object({ flow_id: printable(100), user_id: printable(256) })
const verificationQuery = z.object({ flow_id: printable(100) })

/** Arcade's AuthorizationResponse (wire doc §3) as the broker builds it. */
export const authorizationResponse = z
  .object({
    id: z
      .string()
      .meta({ description: 'The authorization id (`ac_…`), or the connection id (`cn_…`) when the answer came from a stored grant.' }),
    status: z.enum(['not_started', 'pending', 'completed', 'failed']),
    url: z.string().optional().meta({ description: 'Where the user authorizes (only while pending).' }),
    scopes: z.array(z.string()),
    provider_id: z.string(),
    user_id: z.string(),
    context: z
      .object({ token: z.string(), user_info: z.record(z.string(), z.unknown()) })
      .optional()
      .meta({ description: 'The access token and user info (only when completed).' }),
    error: z.object({ code: z.string(), message: z.string() }).optional().meta({
      description: 'Latchkey extension: why the authorization failed (`access_denied`, `expired`, `user_mismatch`, `reauth_required`, …).',
    }),
    account: z
      .object({
        connection_id: z.string(),
        id: z.string().nullable().meta({ description: "The provider's account id, when the provider says who." }),
        label: z.string().nullable().meta({ description: 'A human label (email, login), when the provider gives one.' }),
        default: z.boolean().meta({ description: "Whether this is the user's default account for the provider." }),
      })
      .optional()
      .meta({
        description: 'Latchkey extension: which account a completed authorization is for (several accounts per user and provider).',
      }),
  })
  .meta({ id: 'AuthorizationResponse' })

/** The broker's type and the published schema are one type, or this does not compile. */
export const authorizationResponseIsTheBrokers: Same<z.infer<typeof authorizationResponse>, AuthorizationResponse> = true

const confirmResponse = z.object({ auth_id: z.string(), next_uri: z.string().optional() })

export const authorizeRoute = defineRoute({
  method: 'POST',
  path: '/v1/auth/authorize',
  operationId: 'authorize',
  summary: 'Get a token for a user, or a link for the user to grant one',
  description:
    'Answers `completed` with `context.token` when the user has a grant covering the scopes (refreshed if due); otherwise `pending` with a `url`. Identical concurrent requests share one pending authorization.',
  tag: 'auth',
  access: 'runtime',
  body: authorizeBody,
  responses: { 200: { description: 'Completed (with a token) or pending (with a link).', schema: authorizationResponse } },
  errors: [
    'BAD_REQUEST',
    'PROVIDER_UNKNOWN',
    'PROVIDER_NOT_CONFIGURED',
    'INVALID_NEXT_URI',
    'PROVIDER_MISCONFIGURED',
    'PROVIDER_UNAVAILABLE',
    'TOO_MANY_PENDING_FLOWS',
    'CONNECTION_NOT_FOUND',
  ],
})

export const statusRoute = defineRoute({
  method: 'GET',
  path: '/v1/auth/status',
  operationId: 'authStatus',
  summary: 'The state of an authorization, waiting up to `wait` seconds for it to change',
  description:
    'With `wait` (clamped to 59 s), answers when the authorization completes or fails, or with its pending state when the wait ends.',
  tag: 'auth',
  access: 'runtime',
  query: statusQuery,
  responses: {
    200: { description: 'The authorization, completed with a token, pending, or failed with `error`.', schema: authorizationResponse },
  },
  errors: ['FLOW_NOT_FOUND', 'PROVIDER_MISCONFIGURED', 'PROVIDER_UNAVAILABLE'],
})

export const confirmUserRoute = defineRoute({
  method: 'POST',
  path: '/v1/auth/confirm_user',
  operationId: 'confirmUser',
  summary: 'Custom user verification: vouch that the signed-in user started the authorization',
  tag: 'auth',
  access: 'runtime',
  body: confirmBody,
  responses: {
    200: {
      description: 'The user matches. The grant is stored once the browser that consented opens `next_uri` (send it there).',
      schema: confirmResponse,
    },
  },
  errors: ['BAD_REQUEST', 'FLOW_NOT_FOUND', 'USER_MISMATCH', 'PROVIDER_UNKNOWN'],
})

/** What a custom verifier may show before it confirms (Latchkey extension; `PendingVerification`). */
const pendingVerificationResponse = z
  .object({
    flow_id: z.string(),
    user_id: z.string().meta({ description: 'The user the app started the authorization for.' }),
    provider_id: z.string(),
    scopes: z.array(z.string()).meta({ description: 'What the provider granted (or, if it did not say, what was asked for).' }),
    account: z
      .object({ id: z.string().nullable(), label: z.string().nullable() })
      .meta({ description: 'The provider account that consented, as far as the provider said (user info).' }),
    confirmed: z
      .boolean()
      .meta({ description: 'Whether confirm_user has been called; the grant is stored once the consenting browser opens its next_uri.' }),
  })
  .meta({ id: 'PendingVerification' })

export const verificationRoute = defineRoute({
  method: 'GET',
  path: '/v1/auth/verification',
  operationId: 'pendingVerification',
  summary: 'Custom user verification: which provider account waits to be confirmed',
  tag: 'auth',
  access: 'runtime',
  query: verificationQuery,
  responses: { 200: { description: 'The waiting grant (never a token).', schema: pendingVerificationResponse } },
  errors: ['BAD_REQUEST', 'FLOW_NOT_FOUND'],
})

export const authRouteSpecs = [authorizeRoute, statusRoute, confirmUserRoute, verificationRoute]

/**
 * The hot path's body is checked by Fastify's compiled JSON Schema validator (ajv) before the
 * handler runs: measured on the load test, a zod parse per call cost about as much as the rest
 * of the handler. The zod schema stays the one definition (and the TypeScript type).
 */
export const authorizeBodySchema = jsonSchema(authorizeBody)

export function authRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(
    app,
    authorizeRoute,
    (request, reply) => {
      const body = request.body as z.output<typeof authorizeBody>
      const req = body.auth_requirement
      if (req.provider_type !== undefined && req.provider_type !== 'oauth2') {
        throw new LatchkeyError('BAD_REQUEST', 'auth_requirement.provider_type: only "oauth2" is supported')
      }
      const input: AuthorizeInput = {
        userId: body.user_id,
        provider: { id: req.id, provider_id: req.provider_id },
        scopes: req.oauth2?.scopes ?? [],
        mcpServerUrl: req.mcp?.server_url ?? undefined,
        nextUri: body.next_uri ?? undefined,
        actor: request.apiKey?.id ?? null,
        account: body.account,
      }
      const answer = authorize(ctx, input)
      if (typeof answer !== 'string') return answer
      // A connected user's prepared body (the hot path), sent as it is.
      void reply.type('application/json; charset=utf-8').send(answer)
      return undefined
    },
    { schema: { body: authorizeBodySchema } },
  )

  register(app, statusRoute, async (request) => {
    const q = statusQuery.parse(request.query)
    const waitMs = Math.min(q.wait ?? 0, 59) * 1000
    // The client going away ends the wait (h7-perf: a listener on the request, no AbortController per long-poll).
    const raw = request.raw
    let gone = false
    const onClose = () => {
      gone = true
    }
    raw.once('close', onClose)
    const cancellation: Cancellation = {
      get aborted() {
        return gone
      },
      onAbort(listener) {
        raw.once('close', listener)
        return () => raw.off('close', listener)
      },
    }
    try {
      const result = await status(ctx, q.id, waitMs, request.apiKey?.id ?? null, cancellation)
      // Arcade's generated SDKs loop until `completed`; holding a failed answer for a few seconds
      // keeps them from spinning (our SDK stops on `failed`, and says so in its headers).
      if (result.status === 'failed' && waitMs > 0 && request.headers['x-stainless-lang'] !== undefined) {
        await new Promise((r) => setTimeout(r, Math.min(waitMs, 5000)))
      }
      return result
    } finally {
      raw.off('close', onClose)
    }
  })

  // Latchkey extension: what waits to be confirmed (which provider account), for the verifier to show.
  register(app, verificationRoute, async (request) => {
    const q = verificationQuery.parse(request.query)
    return pendingVerification(ctx, q.flow_id)
  })

  register(app, confirmUserRoute, async (request) => {
    const body = confirmBody.parse(request.body)
    return confirmUser(ctx, body.flow_id, body.user_id, request.apiKey?.id ?? null)
  })
}
