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
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { handOutToken } from './tokens.js'

export type CredentialHeaders =
  | { kind: 'headers'; headers: Record<string, string>; connection: ConnectionRow }
  | { kind: 'reauth_required'; connection: ConnectionRow | undefined }

export async function credentialHeaders(ctx: BrokerContext, connection: ConnectionRow, actor: string | null): Promise<CredentialHeaders> {
  const handed = await handOutToken(ctx, connection, actor)
  if (handed.kind !== 'token') return handed
  const def = ctx.registry.get(handed.connection.provider_id)?.def.credential
  if (def) {
    const username = handed.connection.user_info?.['username']
    const headers = credentialHeaderValues(def, { secret: handed.token, username: typeof username === 'string' ? username : undefined })
    return { kind: 'headers', headers, connection: handed.connection }
  }
  return { kind: 'headers', headers: { authorization: `Bearer ${handed.token}` }, connection: handed.connection }
}
