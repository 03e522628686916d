/**
 * @module http/routes/browser
 * Public pages: the authorization link (`/oauth/authorize/:id`) and the OAuth callback. They
 * answer with HTML pages or redirects, never JSON, and set strict security headers.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { type BrowserResult, handleCallback, openAuthorizationLink } from '../../broker/callback.js'
import type { BrokerContext } from '../../broker/context.js'
import { PAGE_HEADERS, renderPage } from '../pages/page.js'

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!header) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (name && !(name in out)) out[name] = part.slice(eq + 1).trim()
  }
  return out
}

export function browserRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  const secure = ctx.config.publicUrl.startsWith('https:')

  const send = (reply: FastifyReply, result: BrowserResult) => {
    void reply.headers(PAGE_HEADERS)
    if (result.setCookie) {
      const c = result.setCookie
      void reply.header(
        'set-cookie',
        `${c.name}=${c.value}; Path=/oauth; Max-Age=${Math.max(1, c.maxAgeSeconds)}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`,
      )
    }
    if (result.kind === 'redirect') return reply.status(303).header('location', result.location).send()
    return reply.status(result.status).send(renderPage(result))
  }

  app.get<{ Params: { id: string } }>('/oauth/authorize/:id', async (request, reply) => {
    const id = request.params.id
    if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) return send(reply, { kind: 'page', status: 404, tone: 'error', title: 'Unknown link', message: 'This authorization link is not valid.' })
    return send(reply, await openAuthorizationLink(ctx, id, parseCookies(request.headers.cookie)))
  })

  app.get('/oauth/callback', async (request, reply) => {
    const q = request.url.indexOf('?')
    const query = new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1))
    return send(reply, await handleCallback(ctx, query, parseCookies(request.headers.cookie)))
  })
}
