/**
 * @module broker/browser-outcomes
 * What happened when a browser reached Latchkey (the link, the Continue button, the callback),
 * as domain outcomes. The broker decides *what* happened; `http/pages/browser-pages.ts` decides
 * how it looks (status code, copy, headers, the binding cookie). Outcome kinds are not flow
 * failure codes: a flow's `error` is what the app is told, an outcome is what the browser sees.
 */

import { FLOW_FAILURE_CODES, type FlowFailureCode } from '@latchkey/client'
import type { CredentialDefinition } from '../providers/define-provider.js'
import type { FlowRow } from '../storage/store.js'
import type { ScopeItem } from './scope-descriptions.js'

/** Bind this browser to the flow: the http layer turns it into a cookie that lives as long as the flow. */
export interface BindBrowser {
  flowId: string
  value: string
  expiresAt: number
}

// ---- non-OAuth credentials ----
export type CredentialFormError = 'missing' | 'rejected' | 'unavailable'

/** Latchkey's credential page (API key / Basic providers), shown to the bound browser (`credential-flow.ts`). */
export interface CredentialForm {
  kind: 'credential_form'
  flowId: string
  provider: string
  credential: Pick<CredentialDefinition, 'kind' | 'labels'>
  /** The form's CSRF token (derived from the browser's binding value). */
  csrf: string
  bind?: BindBrowser | undefined
  error?: CredentialFormError | undefined
}
// ---- end non-OAuth credentials ----

export type BrowserOutcome =
  | CredentialForm
  /** Go on to `location` (the provider, the app's verifier or its `next_uri`), binding the browser first if set. */
  | { kind: 'redirect'; location: string; bind?: BindBrowser | undefined }
  /** The page with a Continue button, shown before anything is bound (link previews only see this). */
  | {
      kind: 'continue'
      flowId: string
      provider: string
      providerOrigin: string
      bind: BindBrowser
      /** What the app asks for (new scopes only), with the provider's descriptions where it documents them. */
      scopes: ScopeItem[]
    }
  | { kind: 'unknown_link' }
  | { kind: 'provider_unavailable' }
  /** `stage`: the link expired before it was used, or the sign-in took too long. */
  | { kind: 'expired'; stage: 'link' | 'sign_in' }
  | { kind: 'ended' }
  /** `nextUri`: the app's page to go back to, when the app gave one. */
  | { kind: 'already_connected'; nextUri?: string | undefined }
  /** The link was followed to the provider already (its callback has run). */
  | { kind: 'link_used' }
  /** Another browser continued on this link first. */
  | { kind: 'opened_elsewhere' }
  | { kind: 'missing_state' }
  | { kind: 'unknown_state' }
  | { kind: 'replayed' }
  | { kind: 'wrong_browser' }
  | { kind: 'declined'; provider: string; nextUri?: string | undefined }
  /** `code`: the flow's failure code for the provider's `error` (an RFC 6749 code, or `provider_error`). */
  | { kind: 'provider_error'; provider: string; code: FlowFailureCode; error: string; description: string; nextUri?: string | undefined }
  | { kind: 'exchange_failed'; provider: string; misconfigured: boolean; error: string | undefined; nextUri?: string | undefined }
  /** `account`: the connected account's label (the email or login from userinfo), when the provider gave one. */
  | { kind: 'connected'; provider: string; verificationOff: boolean; account?: string | undefined }
  /** Custom verification: the confirmation URL was opened before the app confirmed the user. */
  | { kind: 'not_confirmed' }
  /** Custom verification: the confirmation URL was opened in a browser other than the one that consented (the grant is discarded). */
  | { kind: 'confirmed_elsewhere' }

/** The answer for a flow that is already final, if it is. */
export function finalOutcome(flow: FlowRow): BrowserOutcome | undefined {
  if (flow.status === 'completed') return { kind: 'already_connected', nextUri: flow.next_uri ?? undefined }
  if (flow.status === 'failed') return flow.error === FLOW_FAILURE_CODES.EXPIRED ? { kind: 'expired', stage: 'link' } : { kind: 'ended' }
  return undefined
}
