/**
 * @module broker/credential-headers
 * The HTTP headers that present a connection's credential to the provider's API (for the proxy,
 * and anyone else who calls the API on the user's behalf). OAuth connections: the access token
 * (refreshed first when due, like any hand-out) as `Authorization: Bearer`. API-key providers: the
 * catalog's header and format (`x-api-key: …`, `Authorization: Bearer …`, plus headers such as
 * `anthropic-version`); Basic providers: `Authorization: Basic base64(username:password)`.
 *
 * The secret is in the returned headers only: callers must not log them.
 */
import { credentialHeaderValues } from '../oauth/credential.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { handOutToken } from './tokens.js'

export type CredentialHeaders =
  | { kind: 'headers'; headers: Record<string, string>; connection: ConnectionRow }
  | { kind: 'reauth_required'; connection: ConnectionRow | undefined }

export async function credentialHeaders(ctx: BrokerContext, connection: ConnectionRow, actor: string | null): Promise<CredentialHeaders> {
  const handed = await handOutToken(ctx, connection, actor)
  if (handed.kind !== 'token') return handed
  const headers = credentialHeadersFor(ctx.registry.get(handed.connection.provider_id), handed.connection, handed.token)
  return { kind: 'headers', headers, connection: handed.connection }
}

/** The headers for a secret already handed out (`secret`: the access token, API key or password). */
export function credentialHeadersFor(
  provider: ConfiguredProvider | undefined,
  connection: ConnectionRow,
  secret: string,
): Record<string, string> {
  const def = provider?.def.credential
  if (def) {
    const username = connection.user_info?.['username']
    return credentialHeaderValues(def, { secret, username: typeof username === 'string' ? username : undefined })
  }
  return { authorization: `Bearer ${secret}` }
}
