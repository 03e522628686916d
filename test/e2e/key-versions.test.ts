/**
 * Which encryption key versions a database demands at start, on a real SQLite file: a version
 * is recorded once it has encrypted something, so a start with an extra version (a typo, a key
 * tried once) that encrypted nothing does not lock out the fleet's real key list; one that did
 * encrypt is demanded, and `forgetKeyVersion` (the CLI's `keys forget-encryption-version`)
 * releases it only once no stored secret uses it.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { forgetKeyVersion } from '../../src/broker/rotate-encryption.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

const k1 = Keyring.generateKey()
const k2 = Keyring.generateKey()

async function recorded(h: Harness): Promise<string[]> {
  return Object.keys(JSON.parse((await h.latchkey.store.getMeta('encryption_key_fingerprints')) ?? '{}') as object)
}

/** Starts an authorization (its state and PKCE verifier are sealed) and waits until the key version is recorded. */
async function encryptSomething(h: Harness, version: number): Promise<void> {
  const r = await fetch(`${h.baseURL}/v1/auth/authorize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: `u${version}`, auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } } }),
  })
  expect(r.status).toBe(200)
  for (let i = 0; i < 100 && !(await recorded(h)).includes(String(version)); i++) await new Promise((r) => setTimeout(r, 20))
}

describe('encryption key versions', () => {
  const databaseUrl = join(mkdtempSync(join(tmpdir(), 'lk-keys-')), 'latchkey.db')
  const boot = (encryptionKeys: string) => startHarness({ databaseUrl, encryptionKeys })

  it('an extra version that encrypted nothing is not demanded afterwards', async () => {
    let h = await boot(`1:${k1}`)
    await encryptSomething(h, 1)
    expect(await recorded(h)).toEqual(['1'])
    await h.close()
    // One start with a mistaken extra version 2 that encrypts nothing.
    h = await boot(`2:${Keyring.generateKey()},1:${k1}`)
    expect(await recorded(h)).toEqual(['1'])
    await h.close()
    // The fleet's real key list still starts.
    h = await boot(`1:${k1}`)
    await h.close()
  })

  it('a version that encrypted is demanded, and forgotten only once nothing uses it', async () => {
    let h = await boot(`2:${k2},1:${k1}`)
    await encryptSomething(h, 2)
    expect((await recorded(h)).sort()).toEqual(['1', '2'])
    await h.close()
    await expect(boot(`1:${k1}`)).rejects.toThrow(/lacks key version 2/)

    h = await boot(`2:${k2},1:${k1}`)
    expect(await forgetKeyVersion(h.latchkey.store, 2)).toBeGreaterThan(0)
    expect((await recorded(h)).sort()).toEqual(['1', '2'])
    // The rows sealed with version 2 go away (here: the flows are deleted).
    await h.latchkey.store.deleteExpiredFlows(Date.now() + 86_400_000)
    expect(await forgetKeyVersion(h.latchkey.store, 2)).toBe(0)
    expect(await recorded(h)).toEqual(['1'])
    await h.close()
    h = await boot(`1:${k1}`)
    await h.close()
  })
})
