/**
 * @module broker/mcp-providers
 * MCP servers as providers (issue 13). A provider with `mcp` settings has no endpoints of its
 * own: at flow time this module resolves it into a concrete provider, the same shape the generic
 * OAuth core runs for Google, from
 * - discovery (`oauth/mcp-discovery.ts`), cached per server (Cache-Control max-age, bounded;
 *   failures for 30 s);
 * - a client at the discovered authorization server (`oauth/client-registration.ts`): the
 *   provider's own credentials, else our client ID metadata document, else one dynamic
 *   registration per issuer, stored sealed and shared by every user and process;
 * - the RFC 8707 `resource` on the authorization, token and refresh requests (unless opted
 *   out), `offline_access` when the server lists it, and the issuer for the RFC 9207 check.
 * Each flow and connection is bound to the issuer, client and resource it was sent to: a
 * callback or a refresh whose server now names another authorization server is refused, so
 * a code or refresh token never goes to a server that did not issue it.
 */
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { LatchkeyError } from '../errors.js'
import {
  type ClientIdentity,
  chooseRegistration,
  clientStillRegistered,
  type RegisteredClient,
  type RegistrationMethod,
  registerClient,
} from '../oauth/client-registration.js'
import type { ProviderHttpOptions } from '../oauth/http.js'
import { discoverMcpServer, type McpDiscovery } from '../oauth/mcp-discovery.js'
import { asProviderError, ProviderError } from '../oauth/provider-error.js'
import { refreshAccessToken } from '../oauth/refresh-access-token.js'
import { type RevocableTokens, revokeToken } from '../oauth/revoke-token.js'
import type { TokenSet } from '../oauth/token-response.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import type { McpStore } from '../storage/mcp-registrations.js'
import type { AuditLog } from './audit.js'
import type { Vault } from './vault.js'

/**
 * Discovery answers are reused for the metadata's `Cache-Control: max-age`, bounded to
 * [`DISCOVERY_MIN_TTL_MS`, `DISCOVERY_MAX_TTL_MS`], else `DISCOVERY_TTL_MS`; an
 * `invalid_client` or a changed AS drops them sooner. A failed discovery is remembered for
 * `DISCOVERY_FAILURE_TTL_MS`, so a down or broken server is not asked again on every request.
 */
export const DISCOVERY_TTL_MS = 15 * 60_000
export const DISCOVERY_MIN_TTL_MS = 60_000
export const DISCOVERY_MAX_TTL_MS = 24 * 3600_000
export const DISCOVERY_FAILURE_TTL_MS = 30_000

/** How long one discovery answer is reused. */
export function discoveryTtlMs(d: Pick<McpDiscovery, 'maxAgeSeconds'>): number {
  if (d.maxAgeSeconds === undefined) return DISCOVERY_TTL_MS
  return Math.min(DISCOVERY_MAX_TTL_MS, Math.max(DISCOVERY_MIN_TTL_MS, d.maxAgeSeconds * 1000))
}

/**
 * The sign-in check of a dynamic registration (`forSignIn`): a registration younger than
 * `FRESH_REGISTRATION_MS` is not checked (it cannot have been purged yet, and some ASes take a
 * moment to propagate a new client, so a check could wrongly answer `invalid_client`); a good
 * answer is remembered for `KNOWN_CLIENT_TTL_MS` per (issuer, client), at most
 * `KNOWN_CLIENTS_MAX` of them.
 */
export const FRESH_REGISTRATION_MS = 60_000
export const KNOWN_CLIENT_TTL_MS = 5 * 60_000
export const KNOWN_CLIENTS_MAX = 1000

/** The path Latchkey serves its client ID metadata document at (client_id = the full URL). */
export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json'

export interface McpResolution {
  /** The provider with discovered endpoints, this AS's client, and the resource parameters. */
  provider: ConfiguredProvider
  issuer: string
  clientId: string
  /** How the client was obtained: only a dynamic registration (`dcr`) can be purged and replaced. */
  method: RegistrationMethod
  /** When a dynamic registration was stored (epoch ms). */
  registeredAt?: number
  resource: string
  discovery: McpDiscovery
}

/** Why a sign-in failed when the AS no longer knows our registration; the next sign-in registers again. */
export function purgedRegistrationMessage(issuer: string): string {
  return `the authorization server ${issuer} no longer knows Latchkey's registration (it purged it); Latchkey registers again: start the sign-in again`
}

export interface McpDeps {
  config: Config
  store: McpStore
  vault: Vault
  http: ProviderHttpOptions
  log: Logger
  audit: AuditLog
  redirectUri: string
}

/** The https URL of our metadata document, or undefined when Latchkey cannot serve one (plain http, not loopback dev). */
export function clientMetadataUrl(config: Pick<Config, 'publicUrl' | 'allowInsecureLoopbackProviders'>): string | undefined {
  const url = new URL(CLIENT_METADATA_PATH, config.publicUrl)
  if (url.protocol === 'https:') return url.toString()
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
  return loopback && config.allowInsecureLoopbackProviders ? url.toString() : undefined
}

export class McpProviders {
  readonly #discovery = new Map<string, { value: McpDiscovery; until: number }>()
  readonly #failed = new Map<string, { error: unknown; until: number }>()
  readonly #discovering = new Map<string, Promise<McpDiscovery>>()
  readonly #registering = new Map<string, Promise<RegisteredClient>>()
  readonly #checking = new Map<string, Promise<boolean>>()
  /** (issuer, client) → until when a good check is trusted; oldest first. */
  readonly #known = new Map<string, number>()

  constructor(private readonly deps: McpDeps) {}

  get identity(): ClientIdentity {
    return { clientName: 'Latchkey', redirectUri: this.deps.redirectUri, metadataDocumentUrl: clientMetadataUrl(this.deps.config) }
  }

  /** Discovery for the provider's server, from the cache when fresh; single flight per server. */
  async discover(p: ConfiguredProvider): Promise<McpDiscovery> {
    const serverUrl = p.mcp!.serverUrl
    const cached = this.#discovery.get(serverUrl)
    if (cached && cached.until > Date.now()) return cached.value
    const failed = this.#failed.get(serverUrl)
    if (failed && failed.until > Date.now()) throw failed.error
    const running = this.#discovering.get(serverUrl)
    if (running) return running
    const run = discoverMcpServer(serverUrl, this.deps.http, { allowInsecureLoopback: this.deps.config.allowInsecureLoopbackProviders })
      .then(
        (value) => {
          this.#failed.delete(serverUrl)
          this.#discovery.set(serverUrl, { value, until: Date.now() + discoveryTtlMs(value) })
          return value
        },
        (error: unknown) => {
          this.#failed.set(serverUrl, { error, until: Date.now() + DISCOVERY_FAILURE_TTL_MS })
          throw error
        },
      )
      .finally(() => this.#discovering.delete(serverUrl))
    this.#discovering.set(serverUrl, run)
    return run
  }

  forgetDiscovery(p: ConfiguredProvider): void {
    if (!p.mcp) return
    this.#discovery.delete(p.mcp.serverUrl)
    this.#failed.delete(p.mcp.serverUrl)
  }

  /**
   * Resolves an MCP provider into a concrete one.
   * @throws LatchkeyError MCP_SERVER_REFUSED (unsafe or missing metadata) / PROVIDER_UNAVAILABLE (unreachable)
   */
  async resolve(p: ConfiguredProvider): Promise<McpResolution> {
    try {
      return await this.#resolve(p)
    } catch (err) {
      throw asLatchkeyError(p, err)
    }
  }

  /** As `resolve`, failing with the `ProviderError` (the refresher classifies those). */
  async #resolve(p: ConfiguredProvider): Promise<McpResolution> {
    const discovery = await this.discover(p)
    const client = await this.#client(p, discovery)
    return this.#concrete(p, discovery, client)
  }

  /**
   * The resolution a person is sent to the authorization endpoint with. A dynamic registration
   * is checked first (`clientStillRegistered`; one check at a time per client, shared by every
   * sign-in opened meanwhile): when the AS purged it, it is dropped and replaced by one new
   * registration, so the person signs in instead of meeting the AS's "unknown client" page.
   * Not checked: a registration younger than `FRESH_REGISTRATION_MS`, and one that passed a
   * check in the last `KNOWN_CLIENT_TTL_MS`. Dropped only after two `invalid_client` answers in
   * a row: the registration is shared by every connection, and one answer may be spurious.
   * @throws LatchkeyError as `resolve`
   */
  async forSignIn(p: ConfiguredProvider): Promise<McpResolution> {
    try {
      const r = await this.#resolve(p)
      if (r.method !== 'dcr') return r
      const now = Date.now()
      if (r.registeredAt !== undefined && now - r.registeredAt < FRESH_REGISTRATION_MS) return r
      const key = `${r.issuer}\n${r.clientId}`
      const trusted = this.#known.get(key)
      if (trusted !== undefined && trusted > now) return r
      let check = this.#checking.get(key)
      if (!check) {
        check = this.#check(key, r).finally(() => this.#checking.delete(key))
        this.#checking.set(key, check)
      }
      if (await check) return r
      this.deps.log.warn({ provider: p.id, issuer: r.issuer }, 'the MCP authorization server no longer knows our client; registering again')
      await this.invalidateClient(p, r.issuer, r.clientId)
      return await this.#resolve(p)
    } catch (err) {
      throw asLatchkeyError(p, err)
    }
  }

  /**
   * Whether the AS still knows the client: purged only when it says so twice in a row. An answer
   * that it knows the client is remembered; no answer (the AS unreachable) lets this sign-in go
   * ahead without being remembered, so the next one asks again.
   */
  async #check(key: string, r: McpResolution): Promise<boolean> {
    let answer = await clientStillRegistered(r.provider, this.deps.http)
    if (answer === 'purged') answer = await clientStillRegistered(r.provider, this.deps.http)
    if (answer === 'known') {
      this.#known.delete(key)
      while (this.#known.size >= KNOWN_CLIENTS_MAX) this.#known.delete(this.#known.keys().next().value!)
      this.#known.set(key, Date.now() + KNOWN_CLIENT_TTL_MS)
    }
    return answer !== 'purged'
  }

  /** Binds a flow or connection id to the resolution it was sent with. */
  async bind(id: string, r: Pick<McpResolution, 'issuer' | 'clientId' | 'resource'>): Promise<void> {
    await this.deps.store.putBinding({ id, issuer: r.issuer, client_id: r.clientId, resource: r.resource, updated_at: Date.now() })
  }

  /** Copies a completed flow's binding to the connection it stored. */
  async bindConnection(flowId: string, connectionId: string): Promise<void> {
    const b = await this.deps.store.getBinding(flowId)
    if (!b) return
    await this.deps.store.putBinding({ ...b, id: connectionId, updated_at: Date.now() })
    await this.deps.store.dropBinding(flowId)
  }

  /**
   * The resolution a callback redeems its code with: the one the flow was sent with, or a
   * refusal when the server's authorization server or our client there changed meanwhile.
   */
  async forCallback(p: ConfiguredProvider, flowId: string): Promise<McpResolution> {
    try {
      const d = await this.discover(p)
      const b = await this.deps.store.getBinding(flowId)
      if (!b || b.issuer !== d.as.issuer || b.resource !== d.resource) {
        throw new ProviderError('protocol', `the MCP server's authorization server changed during this sign-in; start the sign-in again`)
      }
      // Never registers here: a registration dropped meanwhile (purged, noticed by another
      // sign-in) is replaced by the next sign-in, not by a callback whose code it cannot redeem.
      const client = await this.#client(p, d, { register: false })
      if (!client || client.clientId !== b.client_id) throw new ProviderError('protocol', purgedRegistrationMessage(d.as.issuer))
      return this.#concrete(p, d, client)
    } catch (err) {
      throw asLatchkeyError(p, err)
    }
  }

  /**
   * The refresh-token grant for an MCP connection. The refresh token goes only to the issuer
   * that issued it; an `invalid_client` answer (the AS purged our registration) drops the
   * registration and retries once with a new one, so a still-valid grant survives.
   */
  async refresh(p: ConfiguredProvider, connectionId: string, refreshToken: string, scopes: readonly string[]): Promise<TokenSet> {
    let r = await this.#resolve(p)
    const b = await this.deps.store.getBinding(connectionId)
    if (b && (b.issuer !== r.issuer || b.resource !== r.resource)) {
      // Re-authorizing against the new server is the only safe way on; the old token is not sent anywhere.
      throw new ProviderError('invalid_grant', `the MCP server now names authorization server ${r.issuer}, not ${b.issuer}; sign in again`)
    }
    try {
      return await refreshAccessToken(r.provider, refreshToken, scopes, this.deps.http)
    } catch (err) {
      const e = asProviderError(err)
      if (e.kind !== 'invalid_client' || r.provider.entry['client_id'] !== undefined) throw e
      this.deps.log.warn({ provider: p.id, issuer: r.issuer }, 'the MCP authorization server rejected our client; registering again')
      await this.invalidateClient(p, r.issuer, r.clientId)
      r = await this.#resolve(p)
      const tokens = await refreshAccessToken(r.provider, refreshToken, scopes, this.deps.http)
      await this.bind(connectionId, r)
      return tokens
    }
  }

  /**
   * Revokes a connection's tokens (RFC 7009) at the authorization server that issued them, at
   * its discovered `revocation_endpoint`, authenticated as our client there. Returns false when
   * that server lists no revocation endpoint. A server that now names another authorization
   * server is refused: the tokens are never sent to one that did not issue them.
   * @throws ProviderError on failure (the caller deletes locally anyway)
   */
  async revoke(p: ConfiguredProvider, connectionId: string, tokens: RevocableTokens): Promise<boolean> {
    const r = await this.#resolve(p)
    const b = await this.deps.store.getBinding(connectionId)
    if (b && b.issuer !== r.issuer) {
      throw new ProviderError(
        'protocol',
        `the MCP server now names authorization server ${r.issuer}, not ${b.issuer}; tokens not sent there`,
      )
    }
    return revokeToken(r.provider, tokens, this.deps.http)
  }

  /** Forgets a client the AS no longer knows (and the discovery that led to it). */
  async invalidateClient(p: ConfiguredProvider, issuer: string, clientId: string): Promise<void> {
    this.forgetDiscovery(p)
    this.#known.delete(`${issuer}\n${clientId}`)
    if (await this.deps.store.dropRegistration(issuer, clientId)) {
      this.deps.audit.record({
        actor: null,
        action: 'mcp.client_dropped',
        user_id: null,
        provider_id: p.id,
        detail: { issuer, client_id: clientId },
      })
    }
  }

  async #client(p: ConfiguredProvider, d: McpDiscovery): Promise<RegisteredClient>
  async #client(p: ConfiguredProvider, d: McpDiscovery, options: { register: false }): Promise<RegisteredClient | undefined>
  async #client(
    p: ConfiguredProvider,
    d: McpDiscovery,
    options: { register: boolean } = { register: true },
  ): Promise<RegisteredClient | undefined> {
    const identity = this.identity
    const method = chooseRegistration(d.as, identity, p.clientId || undefined)
    if (method === 'static') {
      return {
        issuer: d.as.issuer,
        method,
        clientId: p.clientId,
        clientSecret: p.clientSecret,
        authMethod: p.clientSecret ? 'client_secret_basic' : 'none',
      }
    }
    if (method === 'cimd') {
      return { issuer: d.as.issuer, method, clientId: identity.metadataDocumentUrl!, clientSecret: undefined, authMethod: 'none' }
    }
    if (method === undefined) {
      throw new ProviderError(
        'protocol',
        `MCP discovery: ${d.as.issuer} supports neither client ID metadata documents nor dynamic registration; configure client_id (and client_secret) on the provider`,
      )
    }
    const issuer = d.as.issuer
    const stored = await this.deps.store.getRegistration(issuer)
    if (stored) {
      try {
        return this.#open(stored)
      } catch {
        // Sealed under a key version no longer configured (removed before `keys rotate-encryption`
        // re-sealed it): the registration is useless, so a new one replaces it.
        this.deps.log.warn({ issuer }, 'an MCP client registration cannot be decrypted with the configured keys; registering again')
        await this.deps.store.dropRegistration(issuer, stored.client_id)
      }
    }
    if (!options.register) return undefined
    const running = this.#registering.get(issuer)
    if (running) return running
    const run = (async () => {
      const client = await registerClient(d.as, identity, this.deps.http)
      const row = await this.deps.store.addRegistration({
        issuer,
        method: 'dcr',
        client_id: client.clientId,
        client_secret_enc:
          client.clientSecret === undefined
            ? null
            : this.deps.vault.seal({ table: 'mcp_client_registrations', id: issuer, field: 'client_secret' }, client.clientSecret),
        auth_method: client.authMethod,
        created_at: Date.now(),
      })
      if (row.client_id === client.clientId) {
        this.deps.audit.record({
          actor: null,
          action: 'mcp.client_registered',
          user_id: null,
          provider_id: p.id,
          detail: { issuer, client_id: client.clientId },
        })
      }
      return this.#open(row)
    })().finally(() => this.#registering.delete(issuer))
    this.#registering.set(issuer, run)
    return run
  }

  #open(row: Awaited<ReturnType<McpStore['getRegistration']>> & object): RegisteredClient {
    return {
      issuer: row.issuer,
      method: row.method,
      clientId: row.client_id,
      clientSecret:
        row.client_secret_enc === null
          ? undefined
          : this.deps.vault.open({ table: 'mcp_client_registrations', id: row.issuer, field: 'client_secret' }, row.client_secret_enc),
      authMethod: row.auth_method,
      createdAt: row.created_at,
    }
  }

  #concrete(p: ConfiguredProvider, d: McpDiscovery, client: RegisteredClient): McpResolution {
    const settings = p.mcp!
    const resourceParams: Record<string, string> = settings.resourceParameter ? { resource: d.resource } : {}
    const scopes = settings.scopes ?? d.scopes
    const offline = d.as.scopes_supported?.includes('offline_access') === true
    const revocation = d.as.revocation_endpoint && !d.as.revocation_endpoint.includes('{') ? d.as.revocation_endpoint : undefined
    const provider: ConfiguredProvider = {
      ...p,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      def: {
        ...p.def,
        issuer: d.as.issuer,
        issuerParameterRequired: d.as.authorization_response_iss_parameter_supported === true,
        authorizationEndpoint: d.as.authorization_endpoint,
        tokenEndpoint: d.as.token_endpoint,
        ...(revocation ? { revocationEndpoint: revocation } : {}),
        tokenEndpointAuthMethod: client.authMethod,
        ...(scopes.length > 0 ? { defaultScopes: scopes } : {}),
        authorizationParams: {
          ...resourceParams,
          // offline_access rides along on every authorization request when the AS lists it (SEP-2207).
          ...(offline ? { scope: '{{scopes}} {{existing_scopes}} offline_access' } : {}),
        },
        tokenRequestParams: resourceParams,
        refreshRequestParams: resourceParams,
      },
    }
    return {
      provider,
      issuer: d.as.issuer,
      clientId: client.clientId,
      method: client.method,
      ...(client.createdAt !== undefined ? { registeredAt: client.createdAt } : {}),
      resource: d.resource,
      discovery: d,
    }
  }
}

function asLatchkeyError(p: ConfiguredProvider, err: unknown): unknown {
  if (err instanceof LatchkeyError) return err
  const e = asProviderError(err)
  if (e.kind === 'transient') return new LatchkeyError('PROVIDER_UNAVAILABLE', `${p.id}: ${e.message}`)
  return new LatchkeyError('MCP_SERVER_REFUSED', `${p.id}: ${e.message}`)
}
