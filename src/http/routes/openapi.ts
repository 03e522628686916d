/**
 * @module http/routes/openapi
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document of every API route, public (a client
 * generator needs it before it has a key). Built from the routes' own declarations on the first
 * request, then served as the same string; the generator is loaded only then, so starting a
 * server or a CLI command does not load it.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { defineRoute, type RouteSpec, register } from '../route-spec.js'
import { accountRouteSpecs } from './accounts.js'
import { auditRouteSpecs } from './admin-audit.js'
import { brandingRouteSpecs } from './admin-branding.js'
import { connectionRouteSpecs } from './admin-connections.js'
import { dashboardApiRouteSpecs } from './admin-dashboard.js'
import { apiKeyRouteSpecs } from './admin-keys.js'
import { webhookRouteSpecs } from './admin-webhooks.js'
import { authRouteSpecs } from './auth.js'
import { dashboardRouteSpecs } from './dashboard.js'
import { healthRouteSpecs } from './health.js'
import { mcpRouteSpecs } from './mcp.js'
import { providerRouteSpecs } from './providers.js'
import { proxyRouteSpecs } from './proxy.js'

/** This document's own route. */
export const openApiRoute = defineRoute({
  method: 'GET',
  path: '/v1/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI 3.1 document',
  tag: 'meta',
  access: 'public',
  responses: {
    200: { description: 'The OpenAPI document.', schema: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }) },
  },
  errors: [],
})

/**
 * Every route in the document. A route registered but missing here fails
 * `test/e2e/openapi.test.ts`, which compares this list with what Fastify serves.
 */
export const API_ROUTES: readonly RouteSpec[] = [
  ...healthRouteSpecs,
  openApiRoute,
  ...authRouteSpecs,
  ...accountRouteSpecs,
  ...providerRouteSpecs,
  ...webhookRouteSpecs,
  ...connectionRouteSpecs,
  ...apiKeyRouteSpecs,
  ...auditRouteSpecs,
  ...proxyRouteSpecs,
  ...brandingRouteSpecs,
  ...dashboardApiRouteSpecs,
  ...dashboardRouteSpecs,
  ...mcpRouteSpecs,
]

export function openApiRoutes(app: FastifyInstance): void {
  let body: string | undefined
  register(app, openApiRoute, async (_request, reply) => {
    if (body === undefined) {
      const { buildOpenApiDocument } = await import('../openapi.js')
      body = JSON.stringify(buildOpenApiDocument(API_ROUTES))
    }
    return reply.type('application/json; charset=utf-8').send(body)
  })
}
