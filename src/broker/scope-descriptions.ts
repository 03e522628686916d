/**
 * @module broker/scope-descriptions
 * The scopes a Continue page lists, each with the provider's documented description when its
 * definition has one (`scopeDescriptions`); the page words the rest (`http/pages`).
 */
import type { ProviderDefinition } from '../providers/define-provider.js'

export interface ScopeItem {
  scope: string
  /** The provider's own description (English), when its definition documents the scope. */
  description?: string | undefined
}

export function describeScopes(def: Pick<ProviderDefinition, 'scopeDescriptions'>, scopes: readonly string[]): ScopeItem[] {
  const seen = new Set<string>()
  const out: ScopeItem[] = []
  for (const scope of scopes) {
    if (scope === '' || seen.has(scope)) continue
    seen.add(scope)
    const description = def.scopeDescriptions && Object.hasOwn(def.scopeDescriptions, scope) ? def.scopeDescriptions[scope] : undefined
    out.push(description ? { scope, description } : { scope })
  }
  return out
}
