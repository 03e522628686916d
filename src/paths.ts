/**
 * @module paths
 * Latchkey's browser-facing URL paths, defined once. The broker builds links and the redirect
 * URI from them (a link handed to an app must match the route that serves it) and `http/`
 * registers its routes on them; so they live below both layers, not in `http/`.
 */

/** The authorization link an app hands to its user: `/oauth/authorize/:id`. */
export const LINK_ROUTE = '/oauth/authorize/:id'
export const linkPath = (flowId: string) => `/oauth/authorize/${flowId}`

/** The OAuth redirect URI registered with every provider. */
export const CALLBACK_PATH = '/oauth/callback'

/**
 * Where `confirm_user` sends the browser (custom verification): the grant becomes usable only
 * when the browser that consented arrives here.
 */
export const CONFIRM_ROUTE = '/oauth/confirm/:id'
export const confirmPath = (flowId: string) => `/oauth/confirm/${flowId}`

/** Every browser route lives under this path; the binding cookie is scoped to it. */
export const BROWSER_PATH_PREFIX = '/oauth'

/** Where the demo OAuth server is mounted in `--dev` (its issuer is `<public url>` + this). */
export const DEMO_IDP_PREFIX = '/demo-idp'

/** Where Latchkey's credential page (API key / Basic providers) posts the credential. */
export const CREDENTIAL_ROUTE = '/oauth/credential/:id'
export const credentialPath = (flowId: string) => `/oauth/credential/${flowId}`
