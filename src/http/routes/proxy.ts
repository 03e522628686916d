/**
 * @module http/routes/proxy
 * `/v1/proxy/<provider>/<path>` (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS): calls the provider's API
 * at `<API base URL>/<path>` for the user named by `Latchkey-User-Id`, with the user's token added
 * by Latchkey (`broker/proxy.ts`). Its own scope: the request body is not parsed but streamed
 * (a catch-all content-type parser that reads nothing), and the scope adds no hook to any other
 * route. The API key and rate limit are those of the runtime API.
 */
import { EventEmitter } from 'node:events'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { CallerGone, type ProxyAnswer, proxy } from '../../broker/proxy.js'
import { LatchkeyError } from '../../errors.js'
import { defineRoute, type RouteSpec, register } from '../route-spec.js'

export const PROXY_PREFIX = '/v1/proxy/'

const params = z.object({
  provider: z.string().meta({ description: 'The provider id (as in `auth_requirement.provider_id`).' }),
  path: z.string().meta({
    description:
      "The rest of the path, appended to the provider's API base URL, with the query string as sent (it may contain `/`). Refused: `.` and `..` segments, encoded slashes, empty segments, backslashes.",
  }),
})

const headers = z.object({
  'latchkey-user-id': z.string().max(256).meta({ description: 'Required: the user whose connection is used.' }),
  'latchkey-connection-id': z
    .string()
    .max(100)
    .optional()
    .meta({ description: 'Use exactly this connection (`cn_…`); refused (404) if it is not the user’s connection to this provider.' }),
  'latchkey-account': z.string().max(256).optional().meta({
    description: 'Use the connection of this provider account (its account id or label, e.g. the e-mail address); 404 if none matches.',
  }),
  'latchkey-api-base': z.string().max(2048).optional().meta({
    description: 'Which of the provider’s API base URLs (`GET /v1/providers` lists them); default the first.',
  }),
})

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

const specFor = (method: (typeof METHODS)[number]) =>
  defineRoute({
    method,
    path: '/v1/proxy/:provider/*',
    operationId: `proxy${method[0]}${method.slice(1).toLowerCase()}`,
    summary: `${method} a provider API path with the user's credential added by Latchkey`,
    description:
      "Forwards the request to `<API base URL>/<path>` of the provider, with the user's access token in `Authorization` (refreshed first when due; on a 401, refreshed once and an idempotent request with a body of at most 64 KiB is repeated once). " +
      'The caller never sees the token. Bodies stream both ways. Not forwarded upstream: `Authorization` (the Latchkey key), cookies, `Latchkey-*`, `Forwarded`/`X-Forwarded-*` and hop-by-hop headers; not returned: `Set-Cookie`, hop-by-hop headers and any header containing the token. ' +
      'Each call is audited as `proxy.request` (method, host, path template, status; no bodies, no query values).' +
      (method === 'GET' ? ' HEAD is accepted too.' : ''),
    tag: 'proxy',
    access: 'runtime',
    params,
    headers,
    responses: {
      200: {
        description:
          'The provider’s answer as it sent it: any status (2xx, 3xx not followed, 4xx, 5xx), its headers (minus the ones above) and its body. Latchkey’s own errors below have a JSON `{name, message}` body.',
      },
    },
    errors: [
      'BAD_REQUEST',
      'PROVIDER_UNKNOWN',
      'PROVIDER_NOT_CONFIGURED',
      'PROVIDER_NO_API',
      'CONNECTION_NOT_FOUND',
      'CONNECTION_REAUTH_REQUIRED',
      'PROVIDER_MISCONFIGURED',
      'PROVIDER_UNAVAILABLE',
      'UPSTREAM_REFUSED',
    ],
  }) satisfies RouteSpec

export const proxyRouteSpecs: readonly RouteSpec[] = METHODS.map(specFor)

function single(request: FastifyRequest, name: string, max: number): string | undefined {
  const v = request.headers[name]
  if (v === undefined) return undefined
  if (Array.isArray(v) || v.length === 0 || v.length > max) {
    throw new LatchkeyError('BAD_REQUEST', `${name} must be one value of 1–${max} characters`)
  }
  return v
}

/**
 * Aborted when the caller goes away or the server closes, and then the upstream call is
 * cancelled: an EventEmitter, which undici takes as a signal (`CancelSignal`), rather than an
 * AbortController and its EventTarget listeners (3–5 % of a proxied GET's CPU in alternating
 * rounds at load 14–21, about this machine's noise: an A/A comparison read 4 %).
 */
class Cancel extends EventEmitter {
  aborted = false
  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.emit('abort')
  }
}

export function proxyRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  // The body is the provider's business: read by nobody here, streamed upstream as it arrives.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))

  // Calls in flight, cancelled when the server closes: a provider stream (SSE, a watch) would
  // otherwise hold app.close() until it ends, as an unanswered long-poll would.
  const inFlight = new Set<Cancel>()
  app.addHook('preClose', (done) => {
    for (const c of inFlight) c.abort()
    done()
  })

  const handler = async (request: FastifyRequest<{ Params: { provider: string } }>, reply: FastifyReply) => {
    const userId = single(request, 'latchkey-user-id', 256)
    if (userId === undefined) throw new LatchkeyError('BAD_REQUEST', 'the Latchkey-User-Id header is required')
    // The path as received (still percent-encoded), not the router's decoded parameter: the
    // checks in broker/proxy-target.ts must see %2F and %2E as they were sent.
    const raw = request.raw.url ?? ''
    const rest = raw.slice(PROXY_PREFIX.length)
    const path = rest.slice(rest.indexOf('/') + 1)
    const h = request.headers
    const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')
    const abort = new Cancel()
    inFlight.add(abort)
    const onClose = () => {
      inFlight.delete(abort)
      if (!reply.raw.writableFinished) abort.abort()
    }
    reply.raw.once('close', onClose)
    let answer: ProxyAnswer
    try {
      answer = await proxy(ctx, {
        provider: request.params.provider,
        userId,
        selector: {
          connectionId: single(request, 'latchkey-connection-id', 100),
          account: single(request, 'latchkey-account', 256),
        },
        apiBase: single(request, 'latchkey-api-base', 2048),
        method: request.method,
        path,
        headers: h,
        body: hasBody ? request.raw : undefined,
        actor: request.apiKey?.id ?? null,
        signal: abort,
      })
    } catch (err) {
      if (!(err instanceof CallerGone)) throw err
      // Nobody to answer: not a provider failure, so no warning and no error reply.
      request.log.info({ reqId: request.id, provider: request.params.provider }, 'proxy: caller went away before the answer')
      reply.hijack()
      reply.raw.destroy()
      return reply
    }
    void reply.code(answer.status).headers(answer.headers)
    return reply.send(answer.body)
  }
  for (const spec of proxyRouteSpecs) register(app, spec, handler as never)
}
