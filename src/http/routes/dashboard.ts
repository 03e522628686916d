/**
 * @module http/routes/dashboard
 * The admin dashboard's own routes, outside the API scopes: the page shell (`/dashboard`), its
 * script and style sheet (served from `http/dashboard/assets.ts`, no CDN), and the session:
 * sign in with an admin API key, who am I (with the CSRF token), sign out. Everything else the
 * page does goes through the admin API (`/v1/admin/*`) with the session cookie, which the admin
 * guard accepts (`http/guard.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { DashboardSession, DashboardSessions } from '../../broker/dashboard-sessions.js'
import { LatchkeyError } from '../../errors.js'
import type { AuthFailures } from '../auth-failures.js'
import { APP_CSS, APP_JS, SHELL_HTML } from '../dashboard/assets.js'
import { CSRF_HEADER, cookieValue } from '../guard.js'
import { defineRoute, register } from '../route-spec.js'
import { isoTime } from '../schema.js'

export const DASHBOARD_PATH = '/dashboard'

/** `__Host-` binds the cookie to this origin and path `/` (browsers require Secure for it). */
export const dashboardCookieName = (secure: boolean) => (secure ? '__Host-latchkey_dashboard' : 'latchkey_dashboard')

/** No inline script or style anywhere: only this origin's script and style sheet, and its API. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

const PAGE_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
}

const sessionView = z
  .object({
    principal: z.enum(['api_key', 'oidc']).meta({ description: 'How the operator signed in (only `api_key` today).' }),
    key_id: z.string().nullable().meta({ description: 'The admin API key of an `api_key` session, else null.' }),
    actor: z.string().meta({ description: 'What the audit trail records as the actor of changes made in this session.' }),
    csrf_token: z.string().meta({ description: `Send it in the \`${CSRF_HEADER}\` header on every change.` }),
    csrf_header: z.literal(CSRF_HEADER),
    expires_at: isoTime(),
    idle_expires_at: isoTime(),
    idle_timeout_seconds: z.number().int(),
  })
  .meta({ id: 'DashboardSession' })

export const signInRoute = defineRoute({
  method: 'POST',
  path: '/dashboard/session',
  operationId: 'dashboardSignIn',
  summary: 'Sign in to the admin dashboard with an admin API key (sets the session cookie)',
  description:
    'Sets an HttpOnly, SameSite=Strict session cookie (Secure, `__Host-` prefixed, on https). Only for the dashboard page: the request must come from this origin.',
  tag: 'dashboard',
  access: 'public',
  body: z.object({ api_key: z.string().min(1).max(200) }),
  responses: { 201: { description: 'Signed in.', schema: sessionView } },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED', 'UNAVAILABLE'],
})

export const whoAmIRoute = defineRoute({
  method: 'GET',
  path: '/dashboard/session',
  operationId: 'dashboardSession',
  summary: "The dashboard session of this browser's cookie, with its CSRF token",
  tag: 'dashboard',
  access: 'public',
  responses: { 200: { description: 'The session.', schema: sessionView } },
  errors: ['UNAUTHENTICATED', 'UNAVAILABLE'],
})

export const signOutRoute = defineRoute({
  method: 'DELETE',
  path: '/dashboard/session',
  operationId: 'dashboardSignOut',
  summary: 'Sign out of the dashboard (ends the session on every process)',
  tag: 'dashboard',
  access: 'public',
  responses: { 204: { description: 'Signed out; the cookie is cleared.' } },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE'],
})

export const dashboardRouteSpecs = [signInRoute, whoAmIRoute, signOutRoute]

export interface DashboardRouteOptions {
  sessions: DashboardSessions
  failures: AuthFailures
  publicUrl: string
  sessionHours: number
}

export function dashboardRoutes(app: FastifyInstance, o: DashboardRouteOptions): void {
  const secure = o.publicUrl.startsWith('https:')
  const cookieName = dashboardCookieName(secure)
  const origin = new URL(o.publicUrl).origin
  const cookie = (value: string, maxAge: number) =>
    `${cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`

  const view = (s: DashboardSession): z.infer<typeof sessionView> => ({
    principal: s.principal,
    key_id: s.keyId,
    actor: s.actor,
    csrf_token: s.csrf,
    csrf_header: CSRF_HEADER,
    expires_at: new Date(s.expiresAt).toISOString(),
    idle_expires_at: new Date(s.idleExpiresAt).toISOString(),
    idle_timeout_seconds: Math.round(o.sessions.idleMs / 1000),
  })

  /** A change must come from a page of this origin (browsers always send Origin on POST and DELETE). */
  const sameOrigin = (request: FastifyRequest) => {
    const site = request.headers['sec-fetch-site']
    return request.headers.origin === origin && (site === undefined || site === 'same-origin')
  }

  const current = async (request: FastifyRequest): Promise<{ session: DashboardSession; secret: string }> => {
    const secret = cookieValue(request.headers.cookie, cookieName)
    if (secret === undefined) throw new LatchkeyError('UNAUTHENTICATED', 'not signed in to the dashboard')
    return { session: await o.sessions.verify(secret), secret }
  }

  const page = (reply: FastifyReply) => reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(SHELL_HTML)
  app.get(DASHBOARD_PATH, async (_request, reply) => page(reply))
  app.get(`${DASHBOARD_PATH}/`, async (_request, reply) => page(reply))
  app.get(`${DASHBOARD_PATH}/assets/app.js`, async (_request, reply) =>
    reply.headers(PAGE_HEADERS).header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(APP_JS),
  )
  app.get(`${DASHBOARD_PATH}/assets/app.css`, async (_request, reply) =>
    reply.headers(PAGE_HEADERS).header('cache-control', 'no-cache').type('text/css; charset=utf-8').send(APP_CSS),
  )

  register(app, signInRoute, async (request, reply) => {
    if (!sameOrigin(request)) throw new LatchkeyError('FORBIDDEN', 'sign in from the dashboard page of this server')
    const blocked = o.failures.blockedFor(request.ip)
    if (blocked > 0) {
      void reply.header('retry-after', String(blocked))
      throw new LatchkeyError('RATE_LIMITED', `too many failed sign-ins from this address; retry in ${blocked} s`)
    }
    const body = signInRoute.body.safeParse(request.body)
    if (!body.success) throw new LatchkeyError('BAD_REQUEST', 'invalid request: api_key: required')
    let signedIn: Awaited<ReturnType<DashboardSessions['signIn']>>
    try {
      signedIn = await o.sessions.signIn(body.data.api_key)
    } catch (err) {
      if (err instanceof LatchkeyError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) o.failures.fail(request.ip)
      throw err
    }
    // A new session replaces the one this browser may still hold (no two live sessions per cookie).
    const previous = cookieValue(request.headers.cookie, cookieName)
    if (previous !== undefined) await o.sessions.replace(previous)
    return reply
      .status(201)
      .header('set-cookie', cookie(signedIn.secret, o.sessionHours * 3600))
      .send(view(signedIn.session))
  })

  register(app, whoAmIRoute, async (request) => view((await current(request)).session))

  register(app, signOutRoute, async (request, reply) => {
    const { session } = await current(request)
    const csrf = request.headers[CSRF_HEADER]
    if (!sameOrigin(request) || !o.sessions.csrfMatches(session, typeof csrf === 'string' ? csrf : undefined)) {
      throw new LatchkeyError('FORBIDDEN', `missing or wrong CSRF token: sign out from the dashboard sends the ${CSRF_HEADER} header`)
    }
    await o.sessions.signOut(session)
    return reply.status(204).header('set-cookie', cookie('', 0)).send()
  })
}
