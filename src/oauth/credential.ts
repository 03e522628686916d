/**
 * @module oauth/credential
 * Presenting a non-OAuth credential (API key, HTTP Basic) the way the service's docs say, and
 * checking it with the service's cheap validation request, through the one outbound HTTP path.
 */
import type { CredentialDefinition } from '../providers/define-provider.js'
import { type ProviderHttpOptions, providerFetch } from './http.js'
import { ProviderError } from './provider-error.js'

export interface Credential {
  secret: string
  /** basic only. */
  username?: string | undefined
}

/** The headers that present `c` (the secret appears in their values only). */
export function credentialHeaderValues(def: CredentialDefinition, c: Credential): Record<string, string> {
  const secret = def.kind === 'basic' ? Buffer.from(`${c.username ?? ''}:${c.secret}`).toString('base64') : c.secret
  return { ...def.headers, [def.header.toLowerCase()]: def.format.replaceAll('{{secret}}', secret) }
}

/**
 * `valid`, `invalid` (the service answered 401 or 403), or `unchecked` (the catalog gives no
 * validation request). Throws a transient `ProviderError` when the service cannot say (outage,
 * another status): the person may retry.
 */
export async function validateCredential(
  def: CredentialDefinition,
  c: Credential,
  http: ProviderHttpOptions,
): Promise<'valid' | 'invalid' | 'unchecked'> {
  if (!def.validation) return 'unchecked'
  const url = def.validation.url.replaceAll('{{username}}', encodeURIComponent(c.username ?? ''))
  const response = await providerFetch(http)(url, {
    method: def.validation.method ?? 'GET',
    headers: { accept: 'application/json', ...credentialHeaderValues(def, c) },
  })
  await response.body?.cancel()
  if (response.ok) return 'valid'
  if (response.status === 401 || response.status === 403) return 'invalid'
  throw new ProviderError('transient', `the service answered the validation request with HTTP ${response.status}`, {
    status: response.status,
  })
}
