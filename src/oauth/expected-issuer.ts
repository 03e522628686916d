/**
 * @module oauth/expected-issuer
 * RFC 9207 mix-up defence: the `iss` of an authorization response is compared, exactly, with
 * the issuer of the authorization server this flow was sent to. A provider that declares its
 * issuer (`issuer` in its definition, settings filled) gets that value. One that does not has no
 * issuer to compare with, so an `iss` is taken as its issuer only when it names that server: the
 * authorization endpoint's origin, or a path the endpoint lies under (RFC 8414 issuers are the
 * prefix of their endpoints: Keycloak's `…/realms/a` for `…/realms/a/protocol/…/auth`). Sharing
 * only the origin is not enough: two realms or tenants of one host are two issuers.
 */
import type { ProviderDefinition } from '../providers/define-provider.js'

/** The issuer `iss` must equal; an `iss` that names another server gets a value it cannot equal. */
export function expectedIssuer(def: ProviderDefinition, iss: string | null): string {
  if (def.issuer) return def.issuer
  const endpoint = def.authorizationEndpoint
  const origin = new URL(endpoint).origin
  if (iss === null || iss === origin) return origin
  const prefix = iss.endsWith('/') ? iss : `${iss}/`
  return prefix.startsWith(`${origin}/`) && endpoint.startsWith(prefix) ? iss : origin
}
