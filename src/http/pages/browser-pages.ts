/**
 * @module http/pages/browser-pages
 * How each broker outcome looks to the person in the browser: status code, title and copy,
 * security headers, and the binding cookie. The broker decides what happened
 * (`broker/browser-outcomes.ts`); nothing here changes a flow.
 */
import type { FastifyReply } from 'fastify'
import type { BindBrowser, BrowserOutcome } from '../../broker/browser-outcomes.js'
import { BROWSER_PATH_PREFIX } from '../../paths.js'
import { CREDENTIAL_PAGE_HEADERS, formPageHeaders, PAGE_HEADERS, type PageContent, renderPage } from './page.js'

export type PageOutcome = BrowserOutcome | { kind: 'cross_site_post' }

type Page = PageContent & { status: number }

const error = (status: number, title: string, message: string): Page => ({ status, tone: 'error', title, message })

/** The page for every outcome but a redirect. */
export function pageFor(o: Exclude<PageOutcome, { kind: 'redirect' }>): Page {
  switch (o.kind) {
    case 'continue':
      return {
        status: 200,
        tone: 'continue',
        title: `Connect ${o.provider}`,
        message: `An app you use asked to act for you on ${o.provider}. Continue to sign in there and choose what to allow. Only continue if you asked for this.`,
        // Relative: the page's own URL, wherever Latchkey is mounted.
        form: { action: o.flowId, button: `Continue to ${o.provider}` },
      }
    case 'credential_form': {
      const c = o.credential
      const secretLabel = c.labels?.secret ?? (c.kind === 'basic' ? 'Password' : 'API key')
      const problem =
        o.error === 'rejected'
          ? `${o.provider} did not accept this ${c.kind === 'basic' ? 'username and password' : 'key'}. Check it and try again.`
          : o.error === 'unavailable'
            ? `${o.provider} could not be reached to check it. Try again in a moment.`
            : o.error === 'missing'
              ? 'Please fill in every field.'
              : undefined
      return {
        status: o.error === 'rejected' || o.error === 'missing' ? 400 : o.error === 'unavailable' ? 503 : 200,
        tone: o.error ? 'error' : 'continue',
        title: `Connect ${o.provider}`,
        message:
          problem ??
          `An app you use asked to use your ${o.provider} ${c.kind === 'basic' ? 'account' : 'API key'}. Enter it here: it goes to Latchkey, which checks it with ${o.provider} and stores it encrypted; the app never sees this page. Only continue if you asked for this.`,
        form: { action: `../credential/${o.flowId}`, button: `Connect ${o.provider}` },
        fields: [
          ...(c.kind === 'basic' ? [{ name: 'username', label: c.labels?.username ?? 'Username', type: 'text' as const }] : []),
          { name: 'secret', label: secretLabel, type: 'password' as const },
        ],
        hidden: { csrf: o.csrf },
      }
    }
    case 'unknown_link':
      return error(404, 'Unknown link', 'This authorization link is not valid. Ask the app for a new one.')
    case 'provider_unavailable':
      return error(404, 'Provider unavailable', 'The service this link is for is no longer configured.')
    case 'expired':
      return o.stage === 'link'
        ? error(410, 'Link expired', 'This authorization link has expired. Ask the app for a new one.')
        : error(410, 'Link expired', 'This authorization took too long and has expired. Start again from the app.')
    case 'ended':
      return error(410, 'Authorization ended', 'This authorization has ended. Ask the app for a new link.')
    case 'already_connected':
      return {
        status: 200,
        tone: 'success',
        title: 'Already connected',
        message: 'This authorization is already complete. You can close this window.',
      }
    case 'link_used':
      return error(409, 'Link already used', 'This authorization link has already been used.')
    case 'opened_elsewhere':
      return error(
        403,
        'Link opened elsewhere',
        // The way forward: the app's next authorize hands out a new link (a link someone continued
        // on is never handed out again), so asking for one works at once.
        'Someone already continued with this link in another browser, and for your safety it now only works there. To connect from this browser, go back to the app and ask it for a new link: the new one will work here.',
      )
    case 'missing_state':
      return error(400, 'Invalid request', 'The sign-in response is missing its state. Start again from the app.')
    case 'unknown_state':
      return error(
        400,
        'Unknown or used link',
        'This sign-in response does not match any authorization in progress. It may have been used already.',
      )
    case 'replayed':
      return error(409, 'Already used', 'This sign-in response was already used.')
    case 'wrong_browser':
      return error(
        403,
        'Wrong browser',
        'This sign-in finished in a different browser than the one that opened the link, so it was not accepted.',
      )
    case 'declined':
      return error(200, 'Authorization declined', `You declined access to ${o.provider}. You can close this window.`)
    case 'provider_error':
      return error(502, 'Sign-in failed', `${o.provider} reported an error: ${o.error}${o.description ? ` (${o.description})` : ''}`)
    case 'exchange_failed':
      return error(
        502,
        'Sign-in failed',
        o.misconfigured
          ? `${o.provider} rejected this app's credentials. The operator must fix the provider configuration.`
          : `Could not complete the sign-in with ${o.provider}: ${o.error ?? 'the provider did not return a usable token'}.`,
      )
    case 'connected':
      return {
        status: 200,
        tone: o.verificationOff ? 'warning' : 'success',
        title: 'Connected',
        message: `You connected ${o.provider}. You can close this window and return to the app.${o.verificationOff ? ' (Development mode: user verification is off.)' : ''}`,
      }
    case 'not_confirmed':
      return error(409, 'Not confirmed yet', 'The app has not confirmed this sign-in yet. Return to the app and continue from there.')
    case 'confirmed_elsewhere':
      return error(
        403,
        'Sign-in not accepted',
        'This sign-in was made in a different browser, so it was not connected to your account. If you did not just sign in yourself, someone may have tried to connect their account to yours: nothing was connected. Ask the app for a new link to connect.',
      )
    case 'cross_site_post':
      return error(
        403,
        'Open the link itself',
        'This request did not come from the authorization page. Open the link the app gave you and continue from there.',
      )
  }
}

/**
 * The binding cookie's name. On https it carries the `__Host-` prefix: browsers then accept it
 * only with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant or overwrite
 * it (cookie tossing). `__Host-` requires `Secure`, which a browser refuses on plain http other
 * than localhost, so over http (development only) the cookie is a plain `lk_<flow id>` scoped to
 * `/oauth`; a cookie of the other name is never read.
 */
export const bindingCookieName = (flowId: string, secure: boolean) => (secure ? `__Host-lk_${flowId}` : `lk_${flowId}`)

/** The binding cookie: HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET), gone when the flow expires. */
export function bindingCookie(b: BindBrowser, secure: boolean, now = Date.now()): string {
  const maxAge = Math.max(1, Math.ceil((b.expiresAt - now) / 1000))
  const scope = secure ? 'Path=/; Secure' : `Path=${BROWSER_PATH_PREFIX}`
  return `${bindingCookieName(b.flowId, secure)}=${b.value}; ${scope}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax`
}

/** Sends an outcome: a 303 redirect or a page, with the page headers and the binding cookie. */
export function sendOutcome(reply: FastifyReply, o: PageOutcome, secure: boolean): FastifyReply {
  void reply.headers(
    o.kind === 'continue' ? formPageHeaders(o.providerOrigin) : o.kind === 'credential_form' ? CREDENTIAL_PAGE_HEADERS : PAGE_HEADERS,
  )
  const bind = o.kind === 'continue' || o.kind === 'redirect' || o.kind === 'credential_form' ? o.bind : undefined
  if (bind) void reply.header('set-cookie', bindingCookie(bind, secure))
  if (o.kind === 'redirect') return reply.status(303).header('location', o.location).send()
  const page = pageFor(o)
  return reply.status(page.status).send(renderPage(page))
}
