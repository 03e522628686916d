/**
 * @module http/routes/browser
 * Public pages: the authorization link (`/oauth/authorize/:id`) and the OAuth callback. They
 * answer with HTML pages or redirects, never JSON, and set strict security headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { openAuthorizationLink } from '../../broker/authorization-link.js'
import { currentBranding } from '../../broker/branding.js'
import { handleCallback } from '../../broker/callback.js'
import { finishConfirmation } from '../../broker/confirm-user.js'
import type { BrokerContext } from '../../broker/context.js'
import { submitCredential } from '../../broker/credential-flow.js'
import { CALLBACK_PATH, CONFIRM_ROUTE, CREDENTIAL_ROUTE, LINK_ROUTE } from '../../paths.js'
import { bindingCookieName, type PageOutcome, sendOutcome } from '../pages/browser-pages.js'

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

const presentedBinding = (cookieHeader: string | undefined, secure: boolean) => {
  const cookies = parseCookies(cookieHeader)
  return (flowId: string) => cookies[bindingCookieName(flowId, secure)]
}

export function browserRoutes(app: FastifyInstance, ctx: BrokerContext): void {
  const secure = ctx.config.publicUrl.startsWith('https:')
  const ownOrigin = new URL(ctx.config.publicUrl).origin
  // Every page in the person's language, with the deployment's branding.
  const send = async (request: FastifyRequest, reply: FastifyReply, o: PageOutcome) =>
    sendOutcome(reply, o, secure, { branding: await currentBranding(ctx), acceptLanguage: request.headers['accept-language'] })
  // The Continue button posts an empty form; its body is not read (this scope only).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) =>
    done(null, undefined),
  )

  app.get<{ Params: { id: string } }>(LINK_ROUTE, async (request, reply) => {
    const id = request.params.id
    if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) return send(request, reply, { kind: 'unknown_link' })
    return send(request, reply, await openAuthorizationLink(ctx, id, presentedBinding(request.headers.cookie, secure), 'GET'))
  })
  // The Continue button. Only our own page may post it: another site must not be able to start a
  // flow in a visitor's browser without the visitor seeing the page. Browsers send Origin on a
  // POST and Sec-Fetch-Site, which no page can set.
  app.post<{ Params: { id: string } }>(LINK_ROUTE, async (request, reply) => {
    const id = request.params.id
    if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) return send(request, reply, { kind: 'unknown_link' })
    if (request.headers.origin !== ownOrigin && request.headers['sec-fetch-site'] !== 'same-origin') {
      return send(request, reply, { kind: 'cross_site_post' })
    }
    return send(request, reply, await openAuthorizationLink(ctx, id, presentedBinding(request.headers.cookie, secure), 'POST'))
  })

  // ---- non-OAuth credentials: the credential page's POST ----
  // Its own scope: this form's body is read (the Continue button's is not), small and urlencoded.
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/x-www-form-urlencoded')
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_request, body, done) =>
      done(null, new URLSearchParams(body as string)),
    )
    scope.post<{ Params: { id: string } }>(CREDENTIAL_ROUTE, async (request, reply) => {
      const id = request.params.id
      if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) return send(request, reply, { kind: 'unknown_link' })
      if (request.headers.origin !== ownOrigin && request.headers['sec-fetch-site'] !== 'same-origin') {
        return send(request, reply, { kind: 'cross_site_post' })
      }
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams()
      const one = (k: string) => (form.getAll(k).length === 1 ? form.get(k)! : undefined)
      const outcome = await submitCredential(ctx, id, presentedBinding(request.headers.cookie, secure), {
        csrf: one('csrf'),
        secret: one('secret'),
        username: one('username'),
      })
      return send(request, reply, outcome)
    })
  })
  // ---- end non-OAuth credentials ----

  app.get(CALLBACK_PATH, async (request, reply) => {
    const q = request.url.indexOf('?')
    const query = new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1))
    return send(request, reply, await handleCallback(ctx, query, presentedBinding(request.headers.cookie, secure)))
  })

  // Custom verification: the app's verifier sends the browser here after confirm_user.
  app.get<{ Params: { id: string } }>(CONFIRM_ROUTE, async (request, reply) => {
    const id = request.params.id
    if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) return send(request, reply, { kind: 'unknown_link' })
    return send(request, reply, await finishConfirmation(ctx, id, presentedBinding(request.headers.cookie, secure)))
  })
}
