/**
 * @module broker/credential-headers
 * The headers that carry a connection's credential to the provider's API, for the proxy. An
 * OAuth connection sends its access token as a bearer token (RFC 6750 §2.1). The proxy removes
 * any header of the same name the caller sent, so a caller can neither see nor replace them.
 */
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import type { ConnectionRow } from '../storage/store.js'

/** Header names (lower-case) → values; `secret` is the connection's current access token. */
export function credentialHeaders(_provider: ConfiguredProvider, _connection: ConnectionRow, secret: string): Record<string, string> {
  return { authorization: `Bearer ${secret}` }
}
