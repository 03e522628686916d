/**
 * @module http/pages/browser-pages
 * How each broker outcome looks to the person in the browser: status code, title and copy in
 * the person's language, the deployment's branding, security headers, and the binding cookie.
 * The broker decides what happened (`broker/browser-outcomes.ts`); nothing here changes a flow.
 */
import type { FastifyReply } from 'fastify'
import type { Branding } from '../../branding.js'
import type { BindBrowser, BrowserOutcome } from '../../broker/browser-outcomes.js'
import type { ScopeItem } from '../../broker/scope-descriptions.js'
import { BROWSER_PATH_PREFIX } from '../../paths.js'
import { negotiate, type Translate, translator } from './i18n.js'
import { type PageChrome, type PageContent, type PageFrame, pageHeaders, providerFormAction, renderPage } from './page.js'

export type PageOutcome = BrowserOutcome | { kind: 'cross_site_post' }

type Page = PageContent & { status: number }

/** Who is asking and in which language: the request's part of a page. */
export interface PageView {
  branding: Branding
  /** The request's `Accept-Language`. */
  acceptLanguage: string | undefined
}

/** The shared OpenID Connect scopes the pages word themselves (translated); others come from the provider catalog. */
const COMMON_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access'])

export function scopeLines(scopes: readonly ScopeItem[], t: Translate, app: string): Array<{ text: string; code: string }> {
  return scopes.map((s) => ({
    text: s.description ?? (COMMON_SCOPES.has(s.scope) ? t(`scope.${s.scope}`, { app }) : t('scope.raw', { scope: s.scope })),
    code: s.scope,
  }))
}

/** The page for every outcome but a redirect, in the language of `t`. */
export function pageFor(o: Exclude<PageOutcome, { kind: 'redirect' }>, t: Translate, appName: string | undefined): Page {
  // "<App> wants to connect…": without a configured name, a neutral "An app you use".
  const app = appName ?? t('app.default_name')
  const error = (status: number, key: string, params: Record<string, string> = {}, title = `${key}.title`): Page => ({
    status,
    tone: 'error',
    title: t(title, { app, ...params }),
    lead: t(`${key}.lead`, { app, ...params }),
    next: t(`${key}.next`, { app, ...params }),
  })
  const back = (nextUri: string | undefined) => (nextUri ? { href: nextUri, label: t('page.back', { app }) } : undefined)
  switch (o.kind) {
    case 'continue': {
      const provider = o.provider
      return {
        status: 200,
        tone: 'continue',
        title: t('continue.title', { provider }),
        lead: t('continue.lead', { app, provider }),
        pair: { app, provider },
        list: o.scopes.length > 0 ? { heading: t('continue.asks', { app }), items: scopeLines(o.scopes, t, app) } : undefined,
        next: `${o.scopes.length === 0 ? `${t('continue.no_scopes', { app, provider })} ` : ''}${t('continue.next', { app, provider })}`,
        // Relative: the page's own URL, wherever Latchkey is mounted.
        form: { action: o.flowId, button: t('continue.button', { provider }) },
      }
    }
    case 'credential_form': {
      // Latchkey's own form for an API key or a username and password (the app never sees it).
      const c = o.credential
      const provider = o.provider
      const basic = c.kind === 'basic'
      const problem =
        o.error === 'rejected'
          ? t(basic ? 'credential.rejected_basic' : 'credential.rejected_key', { provider })
          : o.error === 'unavailable'
            ? t('credential.unavailable', { provider })
            : o.error === 'missing'
              ? t('credential.missing')
              : undefined
      return {
        status: o.error === 'rejected' || o.error === 'missing' ? 400 : o.error === 'unavailable' ? 503 : 200,
        tone: o.error ? 'error' : 'continue',
        title: t('continue.title', { provider }),
        lead: problem ?? t(basic ? 'credential.lead_basic' : 'credential.lead_key', { app, provider }),
        pair: { app, provider },
        next: t('credential.next', { app, provider }),
        form: { action: `../credential/${o.flowId}`, button: t('credential.button', { provider }), hidden: { csrf: o.csrf } },
        // The catalog's labels ("Account SID") are the service's own words, in English like its scope descriptions.
        fields: [
          ...(basic ? [{ name: 'username', label: c.labels?.username ?? t('credential.username'), type: 'text' as const }] : []),
          { name: 'secret', label: c.labels?.secret ?? t(basic ? 'credential.password' : 'credential.api_key'), type: 'password' as const },
        ],
      }
    }
    case 'unknown_link':
      return error(404, 'unknown_link')
    case 'provider_unavailable':
      return error(404, 'provider_unavailable')
    case 'expired':
      return error(410, o.stage === 'link' ? 'expired_link' : 'expired_sign_in')
    case 'ended':
      return error(410, 'ended')
    case 'already_connected':
      return {
        status: 200,
        tone: 'success',
        title: t('already.title'),
        lead: t('already.lead'),
        next: t('page.close'),
        link: back(o.nextUri),
      }
    case 'link_used':
      return error(409, 'link_used')
    case 'opened_elsewhere':
      // The way forward: the app's next authorize hands out a new link (a link someone continued
      // on is never handed out again), so asking for one works at once.
      return error(403, 'opened_elsewhere')
    case 'missing_state':
      return error(400, 'missing_state')
    case 'unknown_state':
      return error(400, 'unknown_state')
    case 'replayed':
      return error(409, 'replayed')
    case 'wrong_browser':
      return error(403, 'wrong_browser')
    case 'declined':
      return { ...error(200, 'declined', { provider: o.provider }), link: back(o.nextUri) }
    case 'provider_error': {
      const params = { provider: o.provider, error: o.error }
      // RFC 6749 codes with their own advice; any other code reads as the generic failure.
      const key = ['invalid_scope', 'unauthorized_client', 'server_error', 'temporarily_unavailable'].includes(o.code)
        ? o.code
        : 'provider_error'
      const page = error(502, key, params, 'provider_error.title')
      const detail = key === 'provider_error' ? o.description : o.description || o.error
      return {
        ...page,
        lead: detail ? `${page.lead} ${t('provider_error.detail', { provider: o.provider, detail })}` : page.lead,
        link: back(o.nextUri),
      }
    }
    case 'exchange_failed':
      return {
        ...(o.misconfigured
          ? error(502, 'misconfigured', { provider: o.provider }, 'provider_error.title')
          : error(
              502,
              'exchange_failed',
              { provider: o.provider, error: o.error ?? t('exchange_failed.unusable') },
              'provider_error.title',
            )),
        link: back(o.nextUri),
      }
    case 'connected':
      return {
        status: 200,
        tone: o.verificationOff ? 'warning' : 'success',
        title: t('connected.title'),
        lead: t('connected.lead', { provider: o.provider, app }),
        account: o.account ? t('connected.account', { account: o.account }) : undefined,
        next: `${t('connected.next', { app })}${o.verificationOff ? ` ${t('connected.dev')}` : ''}`,
      }
    case 'not_confirmed':
      return error(409, 'not_confirmed')
    case 'confirmed_elsewhere':
      return error(403, 'confirmed_elsewhere')
    case 'cross_site_post':
      return error(403, 'cross_site_post')
  }
}

/** The page's language and its frame (branding, `lang`, `dir`) and chrome (name, support link, footer). */
export function pageContext(view: PageView): { t: Translate; frame: PageFrame; chrome: PageChrome } {
  const { locale, t } = translator(negotiate(view.acceptLanguage))
  const appName = view.branding.appName
  return {
    t,
    frame: { lang: locale.tag, dir: locale.dir, branding: view.branding },
    chrome: {
      appName,
      supportLabel: t('page.support', { app: appName ?? 'Latchkey' }),
      footer: t('page.footer'),
    },
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
export function sendOutcome(reply: FastifyReply, o: PageOutcome, secure: boolean, view: PageView): FastifyReply {
  const bind = o.kind === 'continue' || o.kind === 'redirect' || o.kind === 'credential_form' ? o.bind : undefined
  if (bind) void reply.header('set-cookie', bindingCookie(bind, secure))
  const { t, frame, chrome } = pageContext(view)
  if (o.kind === 'redirect') {
    return reply.headers(pageHeaders(frame)).status(303).header('location', o.location).send()
  }
  // The Continue form is answered with a redirect to the provider; the credential form with a page of ours.
  const formAction = o.kind === 'continue' ? providerFormAction(o.providerOrigin) : o.kind === 'credential_form' ? "'self'" : "'none'"
  void reply.headers(pageHeaders(frame, formAction))
  const page = pageFor(o, t, view.branding.appName)
  return reply.status(page.status).send(renderPage(page, frame, chrome))
}
