/**
 * @module http/routes/demo-idp
 * Mounts the demo OAuth server under `/demo-idp` on Latchkey's own port. oidc-provider reads
 * the raw request (its own body parsing), so this scope hands requests over untouched.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { DemoIdp } from '../../demo/demo-idp.js'
import { DEMO_IDP_PREFIX } from '../../paths.js'

export function mountDemoIdp(demo: DemoIdp): FastifyPluginAsync {
  return async (scope: FastifyInstance) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined))
    const handle = async (
      request: { raw: import('node:http').IncomingMessage & { originalUrl?: string | undefined }; url: string },
      reply: { hijack(): void; raw: import('node:http').ServerResponse },
    ) => {
      reply.hijack()
      const raw = request.raw
      raw.originalUrl = raw.url
      // oidc-provider derives its mount path from originalUrl minus url.
      raw.url = raw.url!.slice(DEMO_IDP_PREFIX.length) || '/'
      demo.handler(raw, reply.raw)
    }
    scope.all('/', handle)
    scope.all('/*', handle)
  }
}
