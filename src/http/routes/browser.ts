/**
 * @module http/routes/browser
 * Public pages: the authorization link (`/oauth/authorize/:id`) and the OAuth callback. They
 * answer with HTML pages or redirects, never JSON, and set strict security headers.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { type BrowserResult, handleCallback, openAuthorizationLink } from '../../broker/callback.js'
import type { BrokerContext } from '../../broker/context.js'
import { PAGE_HEADERS, formPageHeaders, renderPage } from '../pages/page.js'

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
  const ownOrigin = new URL(ctx.config.publicUrl).origin
  // The Continue button posts an empty form; its body is not read (this scope only).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) => done(null, undefined))

  const send = (reply: FastifyReply, result: BrowserResult) => {
    void reply.headers(result.kind === 'page' && result.formRedirectOrigin ? formPageHeaders(result.formRedirectOrigin) : PAGE_HEADERS)
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

  const unknownLink: BrowserResult = { kind: 'page', status: 404, tone: 'error', title: 'Unknown link', message: 'This authorization link is not valid.' }
  app.get<{ Params: { id: string } }>('/oauth/authorize/:id', async (request, reply) => {
    const id = request.params.id
    if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) return send(reply, unknownLink)
    return send(reply, await openAuthorizationLink(ctx, id, parseCookies(request.headers.cookie), 'GET'))
  })
  // The Continue button. Only our own page may post it: another site must not be able to start a
  // flow in a visitor's browser without the visitor seeing the page. Browsers send Origin on a
  // POST and Sec-Fetch-Site, which no page can set.
  app.post<{ Params: { id: string } }>('/oauth/authorize/:id', async (request, reply) => {
    const id = request.params.id
    if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) return send(reply, unknownLink)
    if (request.headers.origin !== ownOrigin && request.headers['sec-fetch-site'] !== 'same-origin') {
      return send(reply, { kind: 'page', status: 403, tone: 'error', title: 'Open the link itself', message: 'This request did not come from the authorization page. Open the link the app gave you and continue from there.' })
    }
    return send(reply, await openAuthorizationLink(ctx, id, parseCookies(request.headers.cookie), 'POST'))
  })

  app.get('/oauth/callback', async (request, reply) => {
    const q = request.url.indexOf('?')
    const query = new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1))
    return send(reply, await handleCallback(ctx, query, parseCookies(request.headers.cookie)))
  })
}
