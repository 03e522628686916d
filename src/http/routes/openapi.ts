/**
 * @module http/routes/openapi
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document of every API route, public (a client
 * generator needs it before it has a key). Built from the routes' own declarations on the first
 * request, then served as the same string.
 */
import type { FastifyInstance } from 'fastify'
import { buildOpenApiDocument, openApiRoute } from '../openapi.js'
import { type RouteSpec, register } from '../route-spec.js'
import { auditRouteSpecs } from './admin-audit.js'
import { connectionRouteSpecs } from './admin-connections.js'
import { apiKeyRouteSpecs } from './admin-keys.js'
import { authRouteSpecs } from './auth.js'
import { healthRouteSpecs } from './health.js'
import { providerRouteSpecs } from './providers.js'

/**
 * Every route in the document. A route registered but missing here fails
 * `test/e2e/openapi.test.ts`, which compares this list with what Fastify serves.
 */
export const API_ROUTES: readonly RouteSpec[] = [
  ...healthRouteSpecs,
  openApiRoute,
  ...authRouteSpecs,
  ...providerRouteSpecs,
  ...connectionRouteSpecs,
  ...apiKeyRouteSpecs,
  ...auditRouteSpecs,
]

export function openApiRoutes(app: FastifyInstance): void {
  let body: string | undefined
  register(app, openApiRoute, async (_request, reply) => {
    body ??= JSON.stringify(buildOpenApiDocument(API_ROUTES))
    return reply.type('application/json; charset=utf-8').send(body)
  })
}
