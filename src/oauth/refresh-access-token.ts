/**
 * @module oauth/refresh-access-token
 * The refresh-token grant (RFC 6749 §6) through oauth4webapi, reading the response with the
 * provider's declared quirks (refresh responses may be shaped differently from the code
 * exchange, e.g. Slack).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
import * as oauth from 'oauth4webapi'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { type OAuthContext, oauthContext, templateValues } from './as-client.js'
import { type ProviderAnswer, type ProviderHttpOptions, providerAnswer } from './http.js'
import { asProviderError, ProviderError } from './provider-error.js'
import { fillPlaceholders } from './templates.js'
import { parseTokenAnswer, type TokenSet } from './token-response.js'

/** `scopes`: the connection's granted scopes, for a `{{scopes}}` placeholder in the provider's refresh params. */
export async function refreshAccessToken(
  p: ConfiguredProvider,
  refreshToken: string,
  scopes: readonly string[],
  http: ProviderHttpOptions,
): Promise<TokenSet> {
  const { ctx, send } = refreshContext(p, http)
  const values = templateValues(p, { refresh_token: refreshToken, scopes: scopes.join(p.def.scopeDelimiter) })
  const additionalParameters = Object.fromEntries(
    Object.entries(p.def.refreshRequestParams ?? {}).map(([k, v]) => [k, fillPlaceholders(v, values)]),
  )
  // oauth4webapi builds the request (the form, client authentication, headers); it is sent by
  // `providerAnswer`, which reads the answer without a `Response` (the refresh hot path).
  // oauth4webapi does nothing with the refresh grant's response but return it: the placeholder
  // is never read, the answer is taken from `send`.
  let answer: ProviderAnswer | undefined
  try {
    await oauth.refreshTokenGrantRequest(ctx.as, ctx.client, ctx.clientAuth, refreshToken, {
      ...ctx.options,
      [oauth.customFetch]: async (url: string, init: RequestInit) => {
        answer = await send(url, init)
        return SENT
      },
      additionalParameters,
    })
  } catch (err) {
    throw asProviderError(err)
  }
  if (!answer) throw new ProviderError('protocol', 'the refresh request was not sent')
  return parseTokenAnswer(answer, p.def.refreshResponse ?? p.def.tokenResponse)
}

const SENT = new Response(null, { status: 204 })

interface RefreshContext {
  def: ConfiguredProvider['def']
  clientId: string
  clientSecret: string | undefined
  http: ProviderHttpOptions
  ctx: OAuthContext
  send: ReturnType<typeof providerAnswer>
}

const contexts = new WeakMap<ConfiguredProvider, RefreshContext>()

/**
 * The provider's oauth4webapi objects and sender for refresh grants, made once per provider
 * instead of per refresh (two URL parses, a Headers, the client authentication: ~1 % of a
 * refresh). Made again when the provider's definition or client credentials are no longer the
 * ones it was made from (a provider object is replaced on a configuration change; MCP providers
 * fill in theirs after discovery).
 */
function refreshContext(p: ConfiguredProvider, http: ProviderHttpOptions): RefreshContext {
  const held = contexts.get(p)
  if (held && held.def === p.def && held.clientId === p.clientId && held.clientSecret === p.clientSecret && held.http === http) return held
  const made: RefreshContext = {
    def: p.def,
    clientId: p.clientId,
    clientSecret: p.clientSecret,
    http,
    ctx: oauthContext(p, http, 'refresh'),
    send: providerAnswer(http, { jsonBody: p.def.tokenRequestContentType === 'json' }),
  }
  contexts.set(p, made)
  return made
}
