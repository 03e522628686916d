/**
 * @module broker/credential-headers
 * The HTTP headers that present a connection's credential to the provider's API (for the proxy,
 * and anyone else who calls the API on the user's behalf). OAuth connections: the access token
 * (refreshed first when due, like any hand-out) as `Authorization: Bearer`.
 *
 * The secret is in the returned headers only: callers must not log them.
 */
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'
import { handOutToken } from './tokens.js'

export type CredentialHeaders =
  | { kind: 'headers'; headers: Record<string, string>; connection: ConnectionRow }
  | { kind: 'reauth_required'; connection: ConnectionRow | undefined }

export async function credentialHeaders(ctx: BrokerContext, connection: ConnectionRow, actor: string | null): Promise<CredentialHeaders> {
  const handed = await handOutToken(ctx, connection, actor)
  if (handed.kind !== 'token') return handed
  return { kind: 'headers', headers: { authorization: `Bearer ${handed.token}` }, connection: handed.connection }
}
