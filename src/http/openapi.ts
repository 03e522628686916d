/**
 * @module http/openapi
 * The OpenAPI 3.1 document of the HTTP API, built from the route declarations the routes are
 * registered from (`http/route-spec.ts`) with zod-openapi, which renders each zod schema with
 * zod's own `z.toJSONSchema` (JSON Schema 2020-12, OpenAPI 3.1's dialect), splits query and
 * path schemas into parameters and turns schemas with a `.meta({ id })` into components.
 * Error statuses come from the error catalog (`errors.ts`).
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi'
import { ERROR_CODES, type ErrorCode } from '../errors.js'
import type { RouteSpec } from './route-spec.js'
import { webhookDocs } from './webhook-docs.js'

const statusKey = (status: number) => String(status) as `${1 | 2 | 3 | 4 | 5}${string}`

/** Codes every route of a kind can answer with, besides its own. */
function sharedErrors(spec: RouteSpec): ErrorCode[] {
  const codes: ErrorCode[] = ['BAD_REQUEST', 'SERVER_ERROR'] // bad percent-encoding or NUL in the URL; an unexpected error
  if (spec.access !== 'public') codes.push('UNAUTHENTICATED', 'RATE_LIMITED', 'UNAVAILABLE') // the key is looked up in the database
  if (spec.access === 'admin') codes.push('FORBIDDEN')
  if (spec.body) codes.push('PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE')
  if (spec.params) codes.push('NOT_FOUND') // a path parameter longer than the router accepts
  return codes
}

/**
 * Arcade's error body. `name` is one of the codes listed for the status; USER_MISMATCH also
 * carries Arcade's `{code, error, msg}` fields (wire doc §6).
 */
function errorBody(codes: readonly ErrorCode[]) {
  const base = z.object({ name: z.enum(codes as [ErrorCode, ...ErrorCode[]]), message: z.string() })
  return codes.includes('USER_MISMATCH')
    ? base.extend({ code: z.number().int().optional(), error: z.string().optional(), msg: z.string().optional() })
    : base
}

/** Sent with RATE_LIMITED (`http/guard.ts`). */
const retryAfter = z.object({ 'retry-after': z.string().meta({ description: 'Seconds until the rate-limit window ends.' }) })

function errorResponses(spec: RouteSpec): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of new Set([...spec.errors, ...sharedErrors(spec)])) {
    const status = ERROR_CODES[code].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  const out: ZodOpenApiResponsesObject = {}
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    // One response per status: an error status a route also answers with a body of its own (health's 503) must not hide it.
    if (status in spec.responses)
      throw new Error(`${spec.method} ${spec.path}: ${codes.join(', ')} share status ${status} with a declared response`)
    out[statusKey(status)] = {
      description: codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].description}`).join('\n\n'),
      content: { 'application/json': { schema: errorBody(codes) } },
      ...(codes.includes('RATE_LIMITED') ? { headers: retryAfter } : {}),
    }
  }
  return out
}

function operation(spec: RouteSpec): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = {}
  for (const [status, r] of Object.entries(spec.responses)) {
    responses[statusKey(Number(status))] = {
      description: r.description,
      ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : {}),
      ...(r.headers ? { headers: r.headers } : {}),
    }
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: spec.access === 'public' ? [] : [{ ApiKey: [] }],
    ...(spec.params || spec.query || spec.headers
      ? {
          requestParams: {
            ...(spec.params ? { path: spec.params } : {}),
            ...(spec.query ? { query: spec.query } : {}),
            ...(spec.headers ? { header: spec.headers } : {}),
          },
        }
      : {}),
    ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
    responses: { ...responses, ...errorResponses(spec) },
  }
}

/** `/v1/admin/api_keys/:id` → `/v1/admin/api_keys/{id}`. */
export const openApiPath = (fastifyPath: string) => fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}')

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

export function buildOpenApiDocument(specs: readonly RouteSpec[]): Record<string, unknown> {
  const paths: ZodOpenApiPathsObject = {}
  for (const spec of specs) {
    const path = openApiPath(spec.path)
    const method = spec.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete' | 'options'
    if (paths[path]?.[method]) throw new Error(`route declared twice: ${spec.method} ${spec.path}`)
    paths[path] = { ...paths[path], [method]: operation(spec) }
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Latchkey',
      version,
      description:
        "Latchkey's HTTP API: Arcade's auth API (`/v1/auth/*`, `/v1/admin/user_connections`, `/v1/admin/auth_providers`, `/v1/health`) plus Latchkey's own admin endpoints. " +
        'Every error is a JSON body `{name, message}`; `name` is a code from the list under each status. ' +
        'Before any route, the HTTP layer may answer 408 `REQUEST_TIMEOUT` (the request line and headers did not arrive within 20 s, or the whole request within 30 s; both configurable) or 431 `HEADERS_TOO_LARGE`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    components: {
      securitySchemes: {
        ApiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: "A Latchkey API key (`lk_…`), sent as it is (what Arcade's SDKs send) or as `Bearer <key>`.",
        },
      },
    },
    paths,
    // What Latchkey sends to webhook endpoints (see the README's Webhooks section).
    webhooks: webhookDocs() as never,
  }) as unknown as Record<string, unknown>
}
