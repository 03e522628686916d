/**
 * @module oauth/client-registration
 * How Latchkey becomes a client of an MCP server's authorization server, in the spec's order:
 * 1. credentials the operator registered by hand (`client_id`/`client_secret` on the provider);
 * 2. a client ID metadata document (CIMD) Latchkey serves at its own https URL, when the AS
 *    advertises `client_id_metadata_document_supported` (client_id = that URL);
 * 3. dynamic client registration (RFC 7591) at the AS's `registration_endpoint`, as a `web`
 *    application allowed the `refresh_token` grant (else sessions die with the first token).
 * The RFC 7591 request goes through oauth4webapi with our guarded fetch.
 * @see https://www.rfc-editor.org/rfc/rfc7591
 */
import { randomBytes } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { type ProviderHttpOptions, providerFetch } from './http.js'
import type { AuthorizationServerMetadata } from './mcp-discovery.js'
import { asProviderError, ProviderError } from './provider-error.js'
import { refreshAccessToken } from './refresh-access-token.js'

export type RegistrationMethod = 'static' | 'cimd' | 'dcr'
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none'

/** A client at one authorization server, keyed by its issuer. */
export interface RegisteredClient {
  issuer: string
  method: RegistrationMethod
  clientId: string
  clientSecret: string | undefined
  authMethod: ClientAuthMethod
  /** When the registration was stored (epoch ms; dynamic registrations only). */
  createdAt?: number
}

export interface ClientIdentity {
  /** Shown on the AS's consent page. */
  clientName: string
  redirectUri: string
  /** Our CIMD URL, when Latchkey serves one at an https URL (or loopback http in development). */
  metadataDocumentUrl: string | undefined
}

/** The metadata document served at `metadataDocumentUrl` (CIMD draft §3: client_id, client_name, redirect_uris). */
export function clientMetadataDocument(identity: ClientIdentity & { metadataDocumentUrl: string }): Record<string, unknown> {
  return {
    client_id: identity.metadataDocumentUrl,
    client_name: identity.clientName,
    redirect_uris: [identity.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'web',
  }
}

/** Which way to get a client, or undefined when none is possible (no CIMD, no registration endpoint). */
export function chooseRegistration(
  as: AuthorizationServerMetadata,
  identity: ClientIdentity,
  staticClientId: string | undefined,
): RegistrationMethod | undefined {
  if (staticClientId) return 'static'
  if (as.client_id_metadata_document_supported === true && identity.metadataDocumentUrl) return 'cimd'
  if (as.registration_endpoint) return 'dcr'
  return undefined
}

/** RFC 7591 registration. The AS picks the auth method among ours; a public client when it allows `none`. */
export async function registerClient(
  as: AuthorizationServerMetadata,
  identity: ClientIdentity,
  http: ProviderHttpOptions,
): Promise<RegisteredClient> {
  const supported = as.token_endpoint_auth_methods_supported
  const authMethod: ClientAuthMethod =
    supported === undefined || supported.includes('client_secret_basic')
      ? 'client_secret_basic'
      : supported.includes('client_secret_post')
        ? 'client_secret_post'
        : 'none'
  const metadata = {
    client_name: identity.clientName,
    redirect_uris: [identity.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: authMethod,
    application_type: 'web',
    // No `scope`: many ASes (oidc-provider among them) then limit the client to it, and a later
    // step-up to a scope outside it would be refused for every user of this registration.
  }
  let registered: Awaited<ReturnType<typeof oauth.processDynamicClientRegistrationResponse>>
  try {
    const response = await oauth.dynamicClientRegistrationRequest(as as oauth.AuthorizationServer, metadata, {
      [oauth.customFetch]: providerFetch(http),
      [oauth.allowInsecureRequests]: new URL(as.registration_endpoint!).protocol === 'http:',
    })
    registered = await oauth.processDynamicClientRegistrationResponse(response)
  } catch (err) {
    const e =
      err instanceof oauth.ResponseBodyError
        ? ProviderError.fromErrorBody(err.status, err.error, err.error_description)
        : asProviderError(err)
    throw new ProviderError(e.kind === 'transient' ? 'transient' : 'protocol', `client registration at ${as.issuer} failed: ${e.message}`, {
      error: e.error,
      status: e.httpStatus,
    })
  }
  const got = registered.token_endpoint_auth_method
  const method: ClientAuthMethod =
    got === 'client_secret_post' || got === 'none' || got === 'client_secret_basic'
      ? got
      : registered.client_secret
        ? 'client_secret_basic'
        : 'none'
  return {
    issuer: as.issuer,
    method: 'dcr',
    clientId: registered.client_id,
    clientSecret: typeof registered.client_secret === 'string' ? registered.client_secret : undefined,
    authMethod: method,
  }
}

/**
 * Whether the AS still knows a dynamically registered client, asked before a person is sent to
 * its authorization endpoint. An AS that purged the client shows the person an error page there
 * (the redirect URI of an unknown client cannot be trusted, so it does not redirect back): Latchkey
 * would never learn of it and every new sign-in would fail. There is no standard "does this client
 * exist" request (RFC 7592's read needs a registration access token most ASes never issue), so
 * this sends a refresh-token grant with a random token, authenticated as the client: RFC 6749
 * §5.2 answers `invalid_client` when the client is unknown and `invalid_grant` for the token.
 * Only `invalid_client` counts as purged. No answer (a timeout, a 5xx, a refused connection) says
 * nothing either way (`unknown`: the sign-in goes ahead, and the next one asks again); any other
 * answer means the AS still knows the client, so an AS that answers oddly is never refused
 * because of the check.
 */
export async function clientStillRegistered(
  provider: ConfiguredProvider,
  http: ProviderHttpOptions,
): Promise<'known' | 'purged' | 'unknown'> {
  try {
    await refreshAccessToken(provider, `latchkey-registration-check-${randomBytes(16).toString('base64url')}`, [], http)
    return 'known'
  } catch (err) {
    const kind = asProviderError(err).kind
    return kind === 'invalid_client' ? 'purged' : kind === 'transient' ? 'unknown' : 'known'
  }
}
