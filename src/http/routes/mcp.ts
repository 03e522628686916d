/**
 * @module http/routes/mcp
 * `GET /oauth/client-metadata.json`: Latchkey's OAuth client ID metadata document (CIMD), for
 * MCP authorization servers that accept a URL as `client_id` (issue 13). Public: the
 * authorization server fetches it, and it holds no secret. Answered only when Latchkey can be
 * such a client (its public URL is https, or loopback http in development).
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { BrokerContext } from '../../broker/context.js'
import { CLIENT_METADATA_PATH } from '../../broker/mcp-providers.js'
import { clientMetadataDocument } from '../../oauth/client-registration.js'
import { defineRoute, register } from '../route-spec.js'

const clientMetadata = z
  .object({
    client_id: z.string().meta({ description: 'This document’s own URL.' }),
    client_name: z.string(),
    redirect_uris: z.array(z.string()),
    grant_types: z.array(z.string()),
    response_types: z.array(z.string()),
    token_endpoint_auth_method: z.literal('none'),
    application_type: z.literal('web'),
  })
  .meta({ id: 'ClientMetadataDocument' })

export const clientMetadataRoute = defineRoute({
  method: 'GET',
  path: CLIENT_METADATA_PATH,
  operationId: 'mcpClientMetadata',
  summary: "Latchkey's OAuth client ID metadata document, for MCP authorization servers (client_id = this URL)",
  tag: 'mcp',
  access: 'public',
  responses: { 200: { description: 'The document (cacheable for 5 minutes).', schema: clientMetadata } },
  errors: ['NOT_FOUND'],
})

export const mcpRouteSpecs = [clientMetadataRoute]

export function mcpRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(app, clientMetadataRoute, (_request, reply) => {
    const identity = ctx.mcp.identity
    if (!identity.metadataDocumentUrl) {
      return reply
        .status(404)
        .send({ name: 'NOT_FOUND', message: 'Latchkey serves a client metadata document only on an https public URL' })
    }
    reply.header('cache-control', 'public, max-age=300')
    return clientMetadataDocument({ ...identity, metadataDocumentUrl: identity.metadataDocumentUrl }) as z.infer<typeof clientMetadata>
  })
}
