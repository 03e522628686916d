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

/** Who the service says the credential belongs to (from the validation response). */
export interface CredentialIdentity {
  id: string | undefined
  label: string | undefined
}

/** The validation response read for identity is small (an account resource); larger ones are not read. */
const MAX_IDENTITY_BODY = 256 * 1024

/**
 * `valid`, `invalid` (the service answered 401 or 403), or `unchecked` (the catalog gives no
 * validation request); with `valid`, the account the response names when the definition says
 * where (`validation.identity`). Throws a transient `ProviderError` when the service cannot say
 * (outage, another status): the person may retry.
 */
export async function validateCredential(
  def: CredentialDefinition,
  c: Credential,
  http: ProviderHttpOptions,
): Promise<{ verdict: 'valid' | 'invalid' | 'unchecked'; identity?: CredentialIdentity }> {
  if (!def.validation) return { verdict: 'unchecked' }
  const url = def.validation.url.replaceAll('{{username}}', encodeURIComponent(c.username ?? ''))
  const response = await providerFetch(http)(url, {
    method: def.validation.method ?? 'GET',
    headers: { accept: 'application/json', ...credentialHeaderValues(def, c) },
  })
  const wanted = def.validation.identity
  if (response.ok && wanted) return { verdict: 'valid', identity: identityOf(await readSmall(response), wanted) }
  await response.body?.cancel()
  if (response.ok) return { verdict: 'valid' }
  if (response.status === 401 || response.status === 403) return { verdict: 'invalid' }
  throw new ProviderError('transient', `the service answered the validation request with HTTP ${response.status}`, {
    status: response.status,
  })
}

async function readSmall(response: Response): Promise<unknown> {
  const length = Number(response.headers.get('content-length') ?? 0)
  if (length > MAX_IDENTITY_BODY) {
    await response.body?.cancel()
    return undefined
  }
  try {
    const text = await response.text()
    return text.length > MAX_IDENTITY_BODY ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The strings at the dotted paths (numbers as text); anything else, or longer than 256, is ignored. */
export function identityOf(body: unknown, wanted: { id?: string | undefined; label?: string | undefined }): CredentialIdentity {
  const at = (path: string | undefined): string | undefined => {
    if (path === undefined) return undefined
    let v: unknown = body
    for (const key of path.split('.')) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, key)) return undefined
      v = (v as Record<string, unknown>)[key]
    }
    const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : undefined
    return text && text.length <= 256 ? text : undefined
  }
  return { id: at(wanted.id), label: at(wanted.label) }
}
