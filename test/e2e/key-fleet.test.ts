/**
 * `rotate-encryption` and the other processes' keys, with real processes: two Latchkey server
 * processes on one SQLite file, one lacking the newest key. The rotation refuses, saying "1 of
 * 2"; once that process has stopped (its announcement removed), it runs.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RotationRefused, rotateEncryption } from '../../src/broker/rotate-encryption.js'
import { Vault } from '../../src/broker/vault.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { openStore } from '../../src/storage/open-store.js'
import { freePort } from '../helpers/ports.js'
import { type ServerProcess, startServerProcess } from '../helpers/processes.js'

const k1 = Keyring.generateKey()
const k2 = Keyring.generateKey()
const databaseUrl = join(mkdtempSync(join(tmpdir(), 'lk-fleet-')), 'latchkey.db')
const running: ServerProcess[] = []

async function serve(encryptionKeys: string): Promise<ServerProcess> {
  const port = await freePort()
  const p = await startServerProcess(
    { port, publicUrl: `http://127.0.0.1:${port}`, databaseUrl, encryptionKeys, providerEntries: [] },
    60_000,
  )
  running.push(p)
  return p
}

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()))
})

describe('rotate-encryption checks every running process holds the newest key', () => {
  it('refuses with "1 of 2" while one lacks it, and runs once it has stopped', async () => {
    await serve(`2:${k2},1:${k1}`)
    const old = await serve(`1:${k1}`)
    const store = openStore({ url: databaseUrl })
    try {
      const vault = new Vault(Keyring.parse(`2:${k2},1:${k1}`))
      const seen: string[] = []
      const err = await rotateEncryption(store, vault, { onFleet: (s) => seen.push(`${s.holding} of ${s.total}`) }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RotationRefused)
      expect((err as Error).message).toMatch(/^1 of 2 running processes hold encryption key version 2: restart the others/)
      expect(seen).toEqual(['1 of 2'])
      await old.kill()
      const result = await rotateEncryption(store, vault, { onFleet: (s) => seen.push(`${s.holding} of ${s.total}`) })
      expect(seen.at(-1)).toBe('1 of 1')
      expect(result.skipped).toBe(0)
    } finally {
      await store.close()
    }
  }, 120_000)
})
