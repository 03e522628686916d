/**
 * @module broker/browser-binding
 * Binding a flow to one browser: the value lives in an HttpOnly cookie in that browser and only
 * its hash in the flow row, so a database reader cannot impersonate the browser. The value is
 * always minted by Latchkey (`Vault.issueBinding`): one a client presents is used only when it is
 * a value Latchkey issued for this flow (the Continue page's candidate), never adopted otherwise,
 * so a value planted in the browser (cookie tossing, session fixation) cannot become the binding.
 */
import { createHash } from 'node:crypto'
import { constantTimeEqual } from '../crypto/api-keys.js'
import type { FlowRow } from '../storage/store.js'

/** Reads the binding value this browser presents for a flow (the http layer knows the cookie). */
export type PresentedBinding = (flowId: string) => string | undefined

export const hashBinding = (value: string) => createHash('sha256').update(value).digest('base64url')

/** True when the browser presents the value the flow is bound to. */
export function bindingMatches(flow: Pick<FlowRow, 'browser_binding'>, presented: string | undefined): boolean {
  return presented !== undefined && flow.browser_binding !== null && constantTimeEqual(hashBinding(presented), flow.browser_binding)
}
