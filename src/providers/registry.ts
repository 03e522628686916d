/**
 * @module providers/registry
 * The providers this installation can use: entries from `latchkey.yaml`, client credentials
 * from `LATCHKEY_<ID>_CLIENT_ID/SECRET`, providers created through the admin API, and the
 * built-in demo provider in `--dev`. Apps name a provider by its unique `id`, or by its
 * catalog type when exactly one configured provider has that type (Arcade's resolution).
 */
import { ConfigError } from '../config.js'
import { LatchkeyError } from '../errors.js'
import type { OutboundGuard } from '../oauth/outbound-guard.js'
import type { ConfiguredProvider } from './configured-provider.js'
import type { ProviderDefinition } from './define-provider.js'
import { compileProviderEntry } from './provider-config.js'

export class ProviderRegistry {
  readonly catalog: Readonly<Record<string, ProviderDefinition>>
  #byId = new Map<string, ConfiguredProvider>()

  constructor(catalog: Readonly<Record<string, ProviderDefinition>>) {
    this.catalog = catalog
  }

  /** Adds or replaces a provider. Config-file and env providers may not be replaced by admin ones. */
  set(provider: ConfiguredProvider): void {
    this.#byId.set(provider.id, provider)
  }

  delete(id: string): boolean {
    return this.#byId.delete(id)
  }

  get(id: string): ConfiguredProvider | undefined {
    return this.#byId.get(id)
  }

  list(): ConfiguredProvider[] {
    return [...this.#byId.values()].sort((a, b) => a.id.localeCompare(b.id))
  }

  /**
   * Resolves what an app asked for: `id` first, then `provider_id` as an id, then as a type.
   * @throws LatchkeyError PROVIDER_UNKNOWN / BAD_REQUEST (ambiguous) / PROVIDER_NOT_CONFIGURED
   */
  resolve(ref: { id?: string | undefined; provider_id?: string | undefined }): ConfiguredProvider {
    const name = ref.id ?? ref.provider_id
    if (!name) throw new LatchkeyError('BAD_REQUEST', 'auth_requirement needs provider_id or id')
    const direct = this.#byId.get(name)
    if (direct?.enabled) return direct
    if (ref.id === undefined) {
      const ofType = [...this.#byId.values()].filter((p) => p.type === name && p.enabled)
      if (ofType.length === 1) return ofType[0]!
      if (ofType.length > 1) {
        throw new LatchkeyError(
          'BAD_REQUEST',
          `several providers have type ${JSON.stringify(name)} (${ofType.map((p) => p.id).join(', ')}); name one by its id`,
        )
      }
    }
    if (direct && !direct.enabled) throw new LatchkeyError('PROVIDER_UNKNOWN', `provider ${JSON.stringify(name)} is disabled`)
    if (this.catalog[name]) {
      throw new LatchkeyError(
        'PROVIDER_NOT_CONFIGURED',
        `provider ${JSON.stringify(name)} is built in but not configured: set LATCHKEY_${name.toUpperCase().replace(/-/g, '_')}_CLIENT_ID and _CLIENT_SECRET, or add it to latchkey.yaml`,
      )
    }
    throw new LatchkeyError('PROVIDER_UNKNOWN', `unknown provider ${JSON.stringify(name)}`)
  }
}

export interface LoadProvidersInput {
  catalog: Readonly<Record<string, ProviderDefinition>>
  entries: Array<Record<string, unknown>>
  envProviders: Record<string, Record<string, string>>
  configFile: string | undefined
  allowInsecureLoopback: boolean
  /** Endpoints Latchkey calls are checked against the SSRF guard's literal rules at load. */
  guard: OutboundGuard
}

/** Builds the registry from the config file and environment; throws naming the bad entry. */
export function loadProviders(input: LoadProvidersInput): ProviderRegistry {
  const registry = new ProviderRegistry(input.catalog)
  input.entries.forEach((raw, i) => {
    const id = typeof raw['id'] === 'string' ? ` (id: ${raw['id']})` : ''
    const provider = compileProviderEntry(raw, {
      catalog: input.catalog,
      allowInsecureLoopback: input.allowInsecureLoopback,
      guard: input.guard,
      source: 'config',
      where: `${input.configFile ?? 'config'}: auth.providers[${i}]${id}`,
    })
    if (registry.get(provider.id))
      throw new ConfigError(`${input.configFile}: auth.providers[${i}]: id ${JSON.stringify(provider.id)} is used twice`)
    registry.set(provider)
  })
  for (const [id, creds] of Object.entries(input.envProviders)) {
    if (registry.get(id)) continue
    const name = `LATCHKEY_${id.toUpperCase().replace(/-/g, '_')}`
    if (!input.catalog[id]) throw new ConfigError(`${name}_CLIENT_ID: there is no built-in provider ${JSON.stringify(id)}`)
    // Settings by their upper-snake names: `authorizationServerId` ← LATCHKEY_OKTA_AUTHORIZATION_SERVER_ID.
    const settings = Object.fromEntries(
      Object.keys(input.catalog[id]!.settings ?? {})
        .map((k) => [k, creds[k.replace(/[A-Z]/g, (c) => `_${c}`).toLowerCase()]] as const)
        .filter((e): e is readonly [string, string] => e[1] !== undefined),
    )
    registry.set(
      compileProviderEntry(
        { id, provider_id: id, client_id: creds['client_id'], client_secret: creds['client_secret'], settings },
        {
          catalog: input.catalog,
          allowInsecureLoopback: input.allowInsecureLoopback,
          guard: input.guard,
          source: 'env',
          where: `${name}_CLIENT_ID`,
        },
      ),
    )
  }
  return registry
}
