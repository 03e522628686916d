/**
 * @module oauth/authorization-url
 * Builds the provider's authorization URL: defaults of RFC 6749 §4.1.1, the provider's
 * declared extra parameters, `state`, and PKCE S256 (RFC 7636 §4) unless the provider
 * cannot take it.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
 */
import * as oauth from 'oauth4webapi'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { fillPlaceholders } from './templates.js'

export interface AuthorizationRequest {
  redirectUri: string
  state: string
  /** Scopes the app asked for. */
  scopes: readonly string[]
  /** Scopes granted before and not asked for again (incremental authorization). */
  existingScopes: readonly string[]
  codeVerifier: string | undefined
  nonce?: string | undefined
  /** The account the app asked for (an email or account id): sent as the provider's `accountHintParam`, if it has one. */
  accountHint?: string | null | undefined
}

export function usesPkce(p: ConfiguredProvider): boolean {
  return p.def.pkce !== 'unsupported'
}

export async function buildAuthorizationUrl(p: ConfiguredProvider, req: AuthorizationRequest): Promise<URL> {
  const def = p.def
  const delimiter = def.scopeDelimiter
  const values = {
    client_id: p.clientId,
    redirect_uri: req.redirectUri,
    scopes: req.scopes.join(delimiter),
    existing_scopes: req.existingScopes.join(delimiter),
    state: req.state,
  }
  const scopeParam = def.scopeParam ?? 'scope'
  const template: Record<string, string | null> = {
    response_type: 'code',
    client_id: '{{client_id}}',
    redirect_uri: '{{redirect_uri}}',
    [scopeParam]: '{{scopes}} {{existing_scopes}}',
    ...def.authorizationParams,
  }
  const url = new URL(def.authorizationEndpoint)
  for (const [key, value] of Object.entries(template)) {
    if (value === null) continue
    let filled = fillPlaceholders(value, values)
    if (value.includes('{{scopes}}') || value.includes('{{existing_scopes}}')) {
      // "{{scopes}} {{existing_scopes}}" must not leave stray delimiters when either is empty.
      filled = filled
        .split(/[ ,]+/)
        .filter(Boolean)
        .filter((s, i, all) => all.indexOf(s) === i)
        .join(delimiter)
      if (filled === '') continue
    }
    url.searchParams.set(key, filled)
  }
  if (req.accountHint && def.accountHintParam) url.searchParams.set(def.accountHintParam, req.accountHint)
  url.searchParams.set('state', req.state)
  if (req.nonce) url.searchParams.set('nonce', req.nonce)
  if (req.codeVerifier !== undefined) {
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(req.codeVerifier))
    url.searchParams.set('code_challenge_method', 'S256')
  }
  return url
}
