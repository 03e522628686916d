/**
 * @module broker/rotate-encryption
 * Re-encrypts every stored secret under the newest encryption key, in batches, online: each
 * row is swapped with a compare-and-swap, so a refresh that rewrites a row meanwhile wins and
 * the row is simply re-read. Interrupting it at any point loses nothing: every row is either
 * still under its old key (which stays configured) or already under the new one.
 */
import { Keyring } from '../crypto/keyring.js'
import type { SecretFields, Store } from '../storage/store.js'
import { type FleetKeyStatus, fleetKeyStatus } from './process-keys.js'
import type { SecretSlot, Vault } from './vault.js'

const TABLES = ['connections', 'flows', 'providers', 'webhook_endpoints', 'mcp_client_registrations'] as const
type Table = (typeof TABLES)[number]

const FIELD_SLOTS: Record<string, SecretSlot['field']> = {
  access_token_enc: 'access_token',
  refresh_token_enc: 'refresh_token',
  code_verifier_enc: 'code_verifier',
  grant_enc: 'grant',
  state_enc: 'state',
  client_secret_enc: 'client_secret',
  secret_enc: 'secret',
  previous_secret_enc: 'previous_secret',
}

export interface RotationProgress {
  table: Table
  scanned: number
  rewritten: number
}

export interface RotationResult {
  scanned: number
  rewritten: number
  /** Rows that changed under us more than 3 times in a row (left for the next run). */
  skipped: number
}

export class RotationRefused extends Error {
  constructor(readonly status: FleetKeyStatus) {
    super(
      `${status.holding} of ${status.total} running processes hold encryption key version ${status.version}: ` +
        'restart the others with the new key list first (a process without it cannot read re-encrypted rows)',
    )
    this.name = 'RotationRefused'
  }
}

/**
 * Waits (up to `waitMs`, default 0) until every live process holds the newest key, reporting
 * "N of M" on each check; throws `RotationRefused` if some still do not.
 */
export async function awaitFleet(
  store: Store,
  vault: Vault,
  options: { waitMs?: number; onFleet?: (s: FleetKeyStatus) => void } = {},
): Promise<FleetKeyStatus> {
  const deadline = Date.now() + (options.waitMs ?? 0)
  for (;;) {
    const status = await fleetKeyStatus(store, vault.keyring)
    options.onFleet?.(status)
    if (status.holding === status.total) return status
    if (Date.now() >= deadline) throw new RotationRefused(status)
    await new Promise((r) => setTimeout(r, 1000))
  }
}

export async function rotateEncryption(
  store: Store,
  vault: Vault,
  options: {
    batchSize?: number
    onProgress?: (p: RotationProgress) => void
    signal?: AbortSignal
    waitMs?: number
    onFleet?: (s: FleetKeyStatus) => void
  } = {},
): Promise<RotationResult> {
  await awaitFleet(store, vault, options)
  const batchSize = options.batchSize ?? 200
  const target = vault.keyring.currentVersion
  const total: RotationResult = { scanned: 0, rewritten: 0, skipped: 0 }
  for (const table of TABLES) {
    let after = ''
    const progress: RotationProgress = { table, scanned: 0, rewritten: 0 }
    for (;;) {
      options.signal?.throwIfAborted()
      const rows = await store.listSecrets(table, after, batchSize)
      if (rows.length === 0) break
      for (const row of rows) {
        progress.scanned++
        let fields = row.fields
        for (let attempt = 0; ; attempt++) {
          const next = reencrypt(vault, table, row.id, fields, target)
          if (!next) break
          if (await store.replaceSecrets(table, row.id, fields, next)) {
            progress.rewritten++
            break
          }
          if (attempt >= 3) {
            total.skipped++
            break
          }
          // The row changed (a refresh wrote new tokens): re-read and try again.
          const fresh = await store.getSecrets(table, row.id)
          if (!fresh) break
          fields = fresh.fields
        }
      }
      after = rows[rows.length - 1]!.id
      options.onProgress?.({ ...progress })
    }
    total.scanned += progress.scanned
    total.rewritten += progress.rewritten
  }
  if (total.skipped === 0 && !options.signal?.aborted) {
    // Every secret is on the newest key: older versions may now be removed from the configuration.
    const raw = await store.getMeta('encryption_key_fingerprints')
    if (raw) {
      const stored = JSON.parse(raw) as Record<string, string>
      const kept = Object.fromEntries(Object.entries(stored).filter(([v]) => Number(v) === target))
      await store.setMeta('encryption_key_fingerprints', JSON.stringify(kept))
    }
  }
  return total
}

/**
 * Recovery for a key version recorded but no longer wanted (its key was lost, or it encrypted a
 * few rows that are gone): removes it from the record only when no stored secret uses it, so
 * a start without it is allowed again. Returns the number of secrets still using it (0: forgotten).
 */
export async function forgetKeyVersion(store: Store, version: number, batchSize = 500): Promise<number> {
  let inUse = 0
  for (const table of TABLES) {
    for (let after = ''; ; ) {
      const rows = await store.listSecrets(table, after, batchSize)
      if (rows.length === 0) break
      for (const row of rows)
        for (const envelope of Object.values(row.fields)) if (envelope !== null && Keyring.versionOf(envelope) === version) inUse++
      after = rows[rows.length - 1]!.id
    }
  }
  if (inUse > 0) return inUse
  const raw = await store.getMeta('encryption_key_fingerprints')
  const stored = raw ? (JSON.parse(raw) as Record<string, string>) : {}
  delete stored[String(version)]
  await store.setMeta('encryption_key_fingerprints', JSON.stringify(stored))
  return 0
}

function reencrypt(vault: Vault, table: Table, id: string, fields: SecretFields, target: number): SecretFields | undefined {
  const out: SecretFields = {}
  let changed = false
  for (const [column, envelope] of Object.entries(fields)) {
    if (envelope === null || Keyring.versionOf(envelope) === target) continue
    const slot = { table, id, field: FIELD_SLOTS[column]! } as SecretSlot
    out[column] = vault.seal(slot, vault.open(slot, envelope))
    changed = true
  }
  return changed ? out : undefined
}
