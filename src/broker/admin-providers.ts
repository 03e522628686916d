/**
 * @module broker/admin-providers
 * Providers managed at runtime through Arcade's admin API. They are stored with the client
 * secret encrypted, compiled exactly like `latchkey.yaml` entries, and reloaded on every
 * process when one process changes them (a store event).
 */

import { ConfigError } from '../config.js'
import { LatchkeyError } from '../errors.js'
import type { ConfiguredProvider } from '../providers/configured-provider.js'
import { isCredentialEntry } from '../providers/credentials/compile.js'
import { compileProviderEntry } from '../providers/provider-config.js'
import type { ProviderRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'

export class ProviderAdmin {
  readonly #unsubscribe: () => void
  #timer: NodeJS.Timeout | undefined
  /** The `updated_at` of each stored row as last applied to the registry. */
  readonly #applied = new Map<string, number>()

  constructor(private readonly ctx: BrokerContext) {
    this.#unsubscribe = ctx.store.subscribe((e) => {
      if (e.channel === 'provider') void this.reload(e.id).catch((err: Error) => ctx.log.error({ err }, 'could not reload provider'))
    })
  }

  /**
   * Loads every stored provider into the registry and drops admin providers deleted meanwhile.
   * Runs at start and every 30 s, so a change whose notification was lost (the listener was
   * reconnecting) still reaches every process; rows unchanged since they were applied are not
   * compiled again. A broken row is logged (once per version), not fatal.
   */
  async loadAll(): Promise<void> {
    const rows = await this.ctx.store.listProviders()
    const ids = new Set(rows.map((r) => r.id))
    for (const p of this.ctx.registry.list()) if (p.source === 'admin' && !ids.has(p.id)) this.ctx.registry.delete(p.id)
    for (const id of this.#applied.keys()) if (!ids.has(id)) this.#applied.delete(id)
    for (const row of rows) if (this.#applied.get(row.id) !== row.updated_at) this.#apply(row)
  }

  startResync(intervalMs = 30_000): void {
    this.#timer = setInterval(() => {
      this.loadAll().catch((err: Error) => this.ctx.log.warn({ err: err.message }, 'provider resync failed'))
    }, intervalMs)
    this.#timer.unref()
  }

  /** Applies one provider's stored row (after a change event), or drops it when it is gone. */
  async reload(id: string): Promise<void> {
    const row = await this.ctx.store.getProvider(id)
    if (row) return this.#apply(row)
    this.#applied.delete(id)
    if (this.ctx.registry.get(id)?.source === 'admin') this.ctx.registry.delete(id)
  }

  #apply(row: ProviderRow): void {
    this.#applied.set(row.id, row.updated_at)
    const current = this.ctx.registry.get(row.id)
    // latchkey.yaml and the environment win over a stored row with the same id.
    if (current && current.source !== 'admin') return
    try {
      this.ctx.registry.set(this.#compile(this.#storedEntry(row), row.id))
    } catch (err) {
      this.ctx.log.error({ provider: row.id, err: (err as Error).message }, 'stored provider is invalid; it stays disabled')
    }
  }

  /** The stored entry with its client secret decrypted, as `#compile` takes it. */
  #storedEntry(row: ProviderRow): Record<string, unknown> {
    const entry = JSON.parse(row.config) as Record<string, unknown>
    if (row.client_secret_enc === null) return entry
    return {
      ...entry,
      client_secret: this.ctx.vault.open({ table: 'providers', id: row.id, field: 'client_secret' }, row.client_secret_enc),
    }
  }

  #compile(raw: Record<string, unknown>, id: string): ConfiguredProvider {
    try {
      return compileProviderEntry(raw, {
        catalog: this.ctx.registry.catalog,
        allowInsecureLoopback: this.ctx.config.allowInsecureLoopbackProviders,
        guard: this.ctx.http.outbound.guard,
        source: 'admin',
        where: `auth provider ${JSON.stringify(id)}`,
      })
    } catch (err) {
      if (err instanceof ConfigError) throw new LatchkeyError('BAD_REQUEST', err.message)
      throw err
    }
  }

  /** Normalises the admin API body (client id/secret may be top level or under oauth2). */
  async create(body: Record<string, unknown>, actor: string | null): Promise<ConfiguredProvider> {
    // Not String(): an array of objects whose `toString` is not a function throws a TypeError there (a 500).
    const raw = body['id']
    if (raw !== undefined && typeof raw !== 'string') throw new LatchkeyError('BAD_REQUEST', 'invalid request: id: must be a string')
    const id = raw ?? ''
    if (this.ctx.registry.get(id)) throw new LatchkeyError('CONFLICT', `a provider with id ${JSON.stringify(id)} already exists`)
    return this.#save(id, body, actor, 'provider.created')
  }

  async patch(id: string, body: Record<string, unknown>, actor: string | null): Promise<ConfiguredProvider> {
    const current = this.ctx.registry.get(id)
    if (!current) throw new LatchkeyError('PROVIDER_UNKNOWN', `no provider with id ${JSON.stringify(id)}`)
    if (current.source !== 'admin')
      throw new LatchkeyError(
        'BAD_REQUEST',
        `provider ${JSON.stringify(id)} is defined in ${current.source === 'config' ? 'latchkey.yaml' : current.source === 'env' ? 'the environment' : 'dev mode'}; change it there`,
      )
    const row = await this.ctx.store.getProvider(id)
    const merged = deepMerge(row ? this.#storedEntry(row) : {}, { ...body, id })
    return this.#save(id, merged, actor, 'provider.updated')
  }

  async remove(id: string, actor: string | null): Promise<ConfiguredProvider> {
    const current = this.ctx.registry.get(id)
    if (!current) throw new LatchkeyError('PROVIDER_UNKNOWN', `no provider with id ${JSON.stringify(id)}`)
    if (current.source !== 'admin') throw new LatchkeyError('BAD_REQUEST', `provider ${JSON.stringify(id)} is not managed through the API`)
    await this.ctx.store.deleteProvider(id)
    this.#applied.delete(id)
    this.ctx.registry.delete(id)
    this.ctx.audit.record({ actor, action: 'provider.deleted', provider_id: id })
    await this.ctx.store.publish({ channel: 'provider', id })
    return current
  }

  async #save(
    id: string,
    raw: Record<string, unknown>,
    actor: string | null,
    action: 'provider.created' | 'provider.updated',
  ): Promise<ConfiguredProvider> {
    // An API-key or Basic provider holds no secret of its own (each person enters theirs):
    // stored as given, validated by the same compiler as latchkey.yaml's entries.
    if (isCredentialEntry(raw)) return this.#store(id, raw, undefined, this.#compile(raw, id), actor, action)
    const oauth2 = (raw['oauth2'] ?? {}) as Record<string, unknown>
    // Arcade's admin API puts credentials under `oauth2`; they win over stored top-level ones (a PATCH rotating them).
    const secret = (oauth2['client_secret'] ?? raw['client_secret']) as string | undefined
    const entry: Record<string, unknown> = { ...raw, type: 'oauth2', client_id: oauth2['client_id'] ?? raw['client_id'] }
    delete entry['client_secret']
    if (entry['oauth2']) entry['oauth2'] = { ...oauth2, client_secret: undefined, client_id: undefined }
    const compiled = this.#compile({ ...entry, ...(secret !== undefined ? { client_secret: secret } : {}) }, id)
    return this.#store(id, entry, secret, compiled, actor, action)
  }

  async #store(
    id: string,
    entry: Record<string, unknown>,
    secret: string | undefined,
    compiled: ConfiguredProvider,
    actor: string | null,
    action: 'provider.created' | 'provider.updated',
  ): Promise<ConfiguredProvider> {
    const now = Date.now()
    const existing = await this.ctx.store.getProvider(id)
    await this.ctx.store.upsertProvider({
      id,
      config: JSON.stringify(entry),
      client_secret_enc: secret === undefined ? null : this.ctx.vault.seal({ table: 'providers', id, field: 'client_secret' }, secret),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    })
    this.#applied.set(id, now)
    this.ctx.registry.set(compiled)
    this.ctx.audit.record({ actor, action, provider_id: id })
    await this.ctx.store.publish({ channel: 'provider', id })
    return compiled
  }

  close(): void {
    clearInterval(this.#timer)
    this.#unsubscribe()
  }
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k]
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v) && cur !== null && typeof cur === 'object' && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}
