/**
 * @module broker/process-keys
 * Every running process announces the encryption key versions it holds (a row per process with
 * their fingerprints and a last-seen time, refreshed every 10 s, gone 30 s after the process
 * stops announcing). `keys rotate-encryption` reads them: re-encrypting while a process lacks the
 * newest key would make that process answer 500 for every re-encrypted row.
 */
import { randomUUID } from 'node:crypto'
import type { Keyring } from '../crypto/keyring.js'
import type { Store } from '../storage/store.js'

export const ANNOUNCE_INTERVAL_MS = 10_000
/** Three missed announcements: the process is gone (killed, or cut off from the database). */
export const STALE_AFTER_MS = 30_000

export function fingerprintsOf(keyring: Keyring): Record<string, string> {
  return Object.fromEntries([...keyring.keys.keys()].map((v) => [String(v), keyring.fingerprint(v)]))
}

export class KeyAnnouncer {
  readonly id = randomUUID()
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    await this.announce()
    this.#timer = setInterval(() => void this.announce().catch(this.onError), ANNOUNCE_INTERVAL_MS)
    this.#timer.unref()
  }

  announce(now = Date.now()): Promise<void> {
    return this.store.announceProcessKeys(this.id, fingerprintsOf(this.keyring), now, now - STALE_AFTER_MS)
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.store.removeProcessKeys(this.id).catch(this.onError)
  }
}

export interface FleetKeyStatus {
  version: number
  /** Live processes holding that version's key (same fingerprint). */
  holding: number
  total: number
}

export async function fleetKeyStatus(
  store: Store,
  keyring: Keyring,
  version = keyring.currentVersion,
  now = Date.now(),
): Promise<FleetKeyStatus> {
  const fingerprint = keyring.fingerprint(version)
  const live = await store.listProcessKeys(now - STALE_AFTER_MS)
  return { version, holding: live.filter((p) => p.fingerprints[String(version)] === fingerprint).length, total: live.length }
}
