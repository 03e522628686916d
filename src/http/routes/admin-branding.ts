/**
 * @module http/routes/admin-branding
 * The end-user pages' branding over HTTP (admin role), for the dashboard: read what is in force,
 * replace the override. Values are validated by `branding.ts`; the pages escape them.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { brandingInput, brandingView, MAX_LOGO_DATA_URL_CHARS } from '../../branding.js'
import { readBranding, replaceBranding } from '../../broker/branding.js'
import type { BrokerContext } from '../../broker/context.js'
import { defineRoute, register } from '../route-spec.js'

const fields = {
  app_name: z
    .string()
    .nullable()
    .meta({ description: 'The app name the pages name ("<App> wants to connect to your <Provider> account").' }),
  logo_url: z
    .string()
    .nullable()
    .meta({
      description: `An https URL, or a data:image/(png|jpeg|gif|webp);base64 URL of at most ${MAX_LOGO_DATA_URL_CHARS} characters.`,
    }),
  accent_color: z.string().nullable().meta({ description: 'Hex colour (#rgb or #rrggbb) of buttons and links.' }),
  support_url: z.string().nullable().meta({ description: 'An https or mailto: URL, linked as "Contact <App> support".' }),
}

const brandingResponse = z
  .object({
    ...fields,
    override: z
      .object(
        Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as {
          [K in keyof typeof fields]: z.ZodOptional<(typeof fields)[K]>
        },
      )
      .meta({ description: 'What PUT set (a field left out falls back to configuration, null clears it).' }),
  })
  .meta({ id: 'Branding', description: 'The branding in force (configuration with the override over it), and the override.' })

export const getBrandingRoute = defineRoute({
  method: 'GET',
  path: '/v1/admin/branding',
  operationId: 'getBranding',
  summary: "The end-user pages' branding",
  tag: 'admin: branding',
  access: 'admin',
  responses: { 200: { description: 'The branding in force, and the override set through this API.', schema: brandingResponse } },
  errors: [],
})

export const putBrandingRoute = defineRoute({
  method: 'PUT',
  path: '/v1/admin/branding',
  operationId: 'putBranding',
  summary: "Replace the end-user pages' branding",
  description:
    'Replaces the whole override: a field left out falls back to configuration (`LATCHKEY_BRANDING_*`), `null` clears it; `{}` restores the configured branding.',
  tag: 'admin: branding',
  access: 'admin',
  body: brandingInput,
  responses: { 200: { description: 'The branding now in force.', schema: brandingResponse } },
  errors: ['BAD_REQUEST'],
})

export const brandingRouteSpecs = [getBrandingRoute, putBrandingRoute]

export function adminBrandingRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  register(app, getBrandingRoute, async () => {
    const { effective, override } = await readBranding(ctx)
    return { ...brandingView(effective), override }
  })
  register(app, putBrandingRoute, async (request) => {
    const input = brandingInput.parse(request.body ?? {})
    const effective = await replaceBranding(ctx, input, request.apiKey?.id ?? null)
    return { ...brandingView(effective), override: input }
  })
}
