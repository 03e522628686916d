/**
 * @module oauth/token-response
 * Reads a token endpoint response into a normalised `TokenSet`, following the provider's
 * declared quirks: the body format (GitHub may answer form-encoded), where each field is
 * (Slack nests user tokens under `authed_user`), errors sent with HTTP 200 (GitHub, Slack
 * `ok: false`), and scopes as a space- or comma-separated string or an array.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
import type { TokenField, ValueExpression } from '../providers/define-provider.js'
import { evaluate } from './expressions.js'
import { type ProviderAnswer, readBody } from './http.js'
import { ProviderError } from './provider-error.js'

export interface TokenSet {
  accessToken: string
  refreshToken: string | undefined
  /** Seconds until the access token expires, when the provider says. */
  expiresIn: number | undefined
  refreshTokenExpiresIn: number | undefined
  /** Granted scopes, when the provider says. */
  scope: string[] | undefined
  tokenType: string | undefined
  idToken: string | undefined
  /** Values of the provider's `tokenResponse.keep` fields (never tokens). */
  kept: Record<string, unknown>
}

export interface ResponseSpec {
  format?: 'json' | 'form' | undefined
  map?: Partial<Record<TokenField, ValueExpression>> | undefined
  keep?: Record<string, ValueExpression> | undefined
}

export async function parseTokenResponse(response: Response, spec: ResponseSpec = {}): Promise<TokenSet> {
  const body = await readBody(response)
  return parseTokenAnswer({ status: response.status, contentType: response.headers.get('content-type'), body }, spec)
}

/** `parseTokenResponse` of an answer already read (`providerAnswer`: the refresh path). */
export function parseTokenAnswer(answer: ProviderAnswer, spec: ResponseSpec = {}): TokenSet {
  const response = { status: answer.status, ok: answer.status >= 200 && answer.status < 300 }
  const body = parseBody(answer.body, spec.format, answer.contentType)
  const errorCode = typeof body?.['error'] === 'string' ? body['error'] : undefined
  const failed = !response.ok || body === undefined || errorCode !== undefined || body['ok'] === false
  if (failed) {
    if (body === undefined && response.ok)
      throw new ProviderError('protocol', 'token endpoint answered with an unreadable body', { status: response.status })
    const description = typeof body?.['error_description'] === 'string' ? body['error_description'] : undefined
    throw ProviderError.fromErrorBody(response.status, errorCode ?? (body?.['ok'] === false ? 'unknown_error' : undefined), description)
  }
  const get = (field: TokenField): unknown => evaluate(spec.map?.[field] ?? `$.${field}`, body)
  const accessToken = get('access_token')
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new ProviderError(
      'protocol',
      `token response has no access token${spec.map?.access_token ? ` at ${spec.map.access_token}` : ''}`,
      { status: response.status },
    )
  }
  const refreshToken = get('refresh_token')
  const tokenType = get('token_type')
  const idToken = get('id_token')
  return {
    accessToken,
    refreshToken: typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : undefined,
    expiresIn: seconds(get('expires_in')) ?? secondsUntil(get('expires_at')),
    refreshTokenExpiresIn: seconds(get('refresh_token_expires_in')),
    scope: scopes(get('scope')),
    tokenType: typeof tokenType === 'string' ? tokenType : undefined,
    idToken: typeof idToken === 'string' ? idToken : undefined,
    kept: Object.fromEntries(
      Object.entries(spec.keep ?? {})
        .map(([k, expr]) => [k, evaluate(expr, body)])
        .filter(([, v]) => v !== undefined),
    ),
  }
}

function parseBody(text: string, format: 'json' | 'form' | undefined, contentType: string | null): Record<string, unknown> | undefined {
  const ct = contentType?.toLowerCase() ?? ''
  const kind = format ?? (ct.includes('json') ? 'json' : ct.includes('x-www-form-urlencoded') ? 'form' : undefined)
  const asJson = () => {
    try {
      const v: unknown = JSON.parse(text)
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
    } catch {
      return undefined
    }
  }
  const asForm = () => {
    const params = new URLSearchParams(text)
    return [...params.keys()].length > 0 && !text.trimStart().startsWith('<') ? Object.fromEntries(params) : undefined
  }
  if (kind === 'json') return asJson()
  if (kind === 'form') return asForm()
  return asJson() ?? asForm()
}

/** A lifetime in seconds. 0 means "not stated" (Mailchimp sends `expires_in: 0` for tokens that never expire). */
function seconds(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined
}

/** Seconds from now until an absolute expiry given as ISO 8601 or unix seconds. */
function secondsUntil(v: unknown): number | undefined {
  const at = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? (/^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v)) : NaN
  if (!Number.isFinite(at)) return undefined
  return Math.max(1, Math.round((at - Date.now()) / 1000))
}

/** Scopes arrive space-separated (RFC 6749), comma-separated (GitHub, Slack) or as arrays. */
export function scopes(v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s !== '')
  if (typeof v !== 'string') return undefined
  return v.split(/[\s,]+/).filter(Boolean)
}
