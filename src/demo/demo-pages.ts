/**
 * @module demo/demo-pages
 * The demo provider's own sign-in, consent and error pages, in place of oidc-provider's
 * development interactions (which print a debug panel of the session and parameters and load a
 * web font from Google). Same look and headers as Latchkey's pages: no script, inline styles
 * allowed by hash, nothing loaded from anywhere. The text follows Accept-Language.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type Provider from 'oidc-provider'
import { NO_BRANDING } from '../branding.js'
import { negotiate, translator } from '../http/pages/i18n.js'
import { escapeHtml, type PageContent, pageHeaders, renderPage } from '../http/pages/page.js'

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/abort)?\/?(?:\?.*)?$/

/** Attribute text: the markup characters only, so a path keeps its slashes (scripted browsers look for `/abort`). */
const attr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Scopes the demo server knows, worded for its consent page. */
const DEMO_SCOPE_WORDS: Record<string, string> = {
  'demo.read': 'Read your demo data',
  'demo.write': 'Change your demo data',
}

export interface DemoPages {
  /** Handles the interaction routes; false for any other request (oidc-provider's). */
  handle(req: IncomingMessage, res: ServerResponse): boolean
}

/**
 * `mountPath`: the issuer's path (`/demo-idp` when mounted on Latchkey's port), which the
 * browser sees before the interaction path. `formTargets`: origins the sign-in and consent
 * forms' redirects lead to (the clients' redirect URIs), for `form-action`.
 */
export function demoPages(provider: Provider, mountPath: string, formTargets: readonly string[]): DemoPages {
  const formAction = ["'self'", ...new Set(formTargets)].join(' ')

  const send = (req: IncomingMessage, res: ServerResponse, status: number, page: PageContent, withForm: boolean) => {
    const { locale } = translator(negotiate(req.headers['accept-language']))
    const frame = { lang: locale.tag, dir: locale.dir, branding: NO_BRANDING }
    const { t } = translator(locale.tag)
    res.writeHead(status, pageHeaders(frame, withForm ? formAction : "'none'"))
    res.end(renderPage(page, frame, { appName: t('demo.title'), supportLabel: undefined, footer: t('demo.title') }))
  }

  const errorPage = (req: IncomingMessage, res: ServerResponse) => {
    const { t } = translator(negotiate(req.headers['accept-language']))
    send(req, res, 400, { tone: 'error', title: t('demo.error.title'), lead: t('demo.error.lead'), next: t('demo.error.next') }, false)
  }

  async function render(req: IncomingMessage, res: ServerResponse, uid: string) {
    const { t } = translator(negotiate(req.headers['accept-language']))
    const details = await provider.interactionDetails(req, res)
    const action = attr(`${mountPath}/interaction/${uid}`)
    if (details.prompt.name === 'login') {
      const html = `<form action="${action}" method="post"><input type="hidden" name="prompt" value="login"><label for="login">${escapeHtml(t('demo.login.user'))}</label><input type="text" id="login" name="login" autocomplete="username" required autofocus><label for="password">${escapeHtml(t('demo.login.password'))}</label><input type="password" id="password" name="password" autocomplete="current-password"><div class="actions"><button type="submit">${escapeHtml(t('demo.login.button'))}</button></div></form>`
      return send(req, res, 200, { tone: 'signin', title: t('demo.login.title'), lead: t('demo.login.lead'), html }, true)
    }
    if (details.prompt.name === 'consent') {
      const client = String(details.params['client_id'] ?? '')
      const asked = [
        ...new Set([
          ...((details.prompt.details['missingOIDCScope'] as string[] | undefined) ?? []),
          ...String(details.params['scope'] ?? '')
            .split(' ')
            .filter((s) => s in DEMO_SCOPE_WORDS),
        ]),
      ]
      const items = asked.map((s) => ({
        text:
          DEMO_SCOPE_WORDS[s] ??
          (['openid', 'profile', 'email', 'offline_access'].includes(s) ? t(`scope.${s}`, { app: client }) : t('scope.raw', { scope: s })),
        code: s,
      }))
      const html = `<div class="actions"><form action="${action}" method="post"><input type="hidden" name="prompt" value="consent"><button type="submit">${escapeHtml(t('demo.consent.allow'))}</button></form><a class="button secondary" href="${attr(`${mountPath}/interaction/${uid}/abort`)}">${escapeHtml(t('demo.consent.deny'))}</a></div>`
      return send(
        req,
        res,
        200,
        {
          tone: 'signin',
          title: t('demo.consent.title'),
          lead: t('demo.consent.lead', { client, account: String(details.session?.accountId ?? '') }),
          list: items.length ? { heading: '', items } : undefined,
          html,
        },
        true,
      )
    }
    return errorPage(req, res)
  }

  async function submit(req: IncomingMessage, res: ServerResponse) {
    const body = new URLSearchParams(await readBody(req))
    const details = await provider.interactionDetails(req, res)
    if (body.get('prompt') === 'login' && details.prompt.name === 'login') {
      const login = (body.get('login') ?? '').trim().slice(0, 64) || 'demo'
      return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false })
    }
    if (body.get('prompt') === 'consent' && details.prompt.name === 'consent') {
      const { grantId, session, params } = details
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session!.accountId, clientId: String(params['client_id']) })
      if (!grant) return errorPage(req, res)
      const d = details.prompt.details as {
        missingOIDCScope?: string[]
        missingOIDCClaims?: string[]
        missingResourceScopes?: Record<string, string[]>
      }
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '))
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims)
      for (const [indicator, scope] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scope.join(' '))
      return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true })
    }
    return errorPage(req, res)
  }

  return {
    handle(req, res) {
      const m = INTERACTION.exec(req.url ?? '')
      if (!m) return false
      const [, uid, abort] = m
      const run = async () => {
        if (abort && req.method === 'GET') {
          return provider.interactionFinished(
            req,
            res,
            { error: 'access_denied', error_description: 'End-User aborted interaction' },
            { mergeWithLastSubmission: false },
          )
        }
        if (req.method === 'GET') return render(req, res, uid!)
        if (req.method === 'POST' && !abort) return submit(req, res)
        res.writeHead(405, { allow: 'GET, POST' }).end()
      }
      run().catch(() => {
        // An unknown or expired interaction (SessionNotFound) and anything else: our error page.
        if (!res.headersSent) errorPage(req, res)
        else res.end()
      })
      return true
    },
  }
}

async function readBody(req: IncomingMessage, limit = 8192): Promise<string> {
  let text = ''
  for await (const chunk of req) {
    text += chunk.toString()
    if (text.length > limit) throw new Error('body too large')
  }
  return text
}

/** oidc-provider's error page (it loads a Google font): ours instead, without the error's details. */
export function renderDemoError(
  ctx: { type: string; body: unknown; set(h: Record<string, string>): void; req: IncomingMessage },
  out: Record<string, unknown>,
) {
  const { locale, t } = translator(negotiate(ctx.req.headers['accept-language']))
  const frame = { lang: locale.tag, dir: locale.dir, branding: NO_BRANDING }
  ctx.set(pageHeaders(frame))
  ctx.type = 'html'
  ctx.body = renderPage(
    {
      tone: 'error',
      title: t('demo.error.title'),
      // The OAuth error (never a secret: oidc-provider's error code and description) helps a developer.
      lead: typeof out['error_description'] === 'string' ? `${out['error']}: ${out['error_description']}` : t('demo.error.lead'),
      next: t('demo.error.next'),
    },
    frame,
    { appName: t('demo.title'), supportLabel: undefined, footer: t('demo.title') },
  )
}
