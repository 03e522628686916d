import { describe, expect, it } from 'vitest'
import { generateApiKey, parseApiKey, verifySecret } from '../../src/crypto/api-keys.js'
import { Keyring } from '../../src/crypto/keyring.js'

const k1 = Keyring.generateKey()
const k2 = Keyring.generateKey()

describe('Keyring', () => {
  it('encrypts with the newest key and decrypts with any configured key', () => {
    const old = Keyring.parse(`1:${k1}`)
    const sealed = old.encrypt('secret-token', 'connections:cn_1:access_token')
    expect(sealed).not.toContain('secret-token')
    expect(Keyring.versionOf(sealed)).toBe(1)
    const both = Keyring.parse(`2:${k2},1:${k1}`)
    expect(both.decrypt(sealed, 'connections:cn_1:access_token')).toBe('secret-token')
    const resealed = both.encrypt('secret-token', 'x')
    expect(Keyring.versionOf(resealed)).toBe(2)
    expect(() => old.decrypt(resealed, 'x')).toThrow(/version 2/)
  })

  it('binds a ciphertext to its row: moved elsewhere it does not decrypt', () => {
    const ring = Keyring.parse(k1)
    const sealed = ring.encrypt('alice-token', 'connections:cn_alice:access_token')
    expect(() => ring.decrypt(sealed, 'connections:cn_mallory:access_token')).toThrow()
    expect(() => ring.decrypt(sealed, 'connections:cn_alice:refresh_token')).toThrow()
  })

  it('detects tampering', () => {
    const ring = Keyring.parse(k1)
    const sealed = ring.encrypt('token', 'a')
    const parts = sealed.split('.')
    const ct = Buffer.from(parts[4]!, 'base64url')
    ct[0] = ct[0]! ^ 1
    parts[4] = ct.toString('base64url')
    expect(() => ring.decrypt(parts.join('.'), 'a')).toThrow()
    expect(() => ring.decrypt('not-a-ciphertext', 'a')).toThrow(/not a Latchkey ciphertext/)
  })

  it('refuses short, repeated or duplicate-version keys', () => {
    expect(() => Keyring.parse(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/)
    expect(() => Keyring.parse(`1:${k1},2:${k1}`)).toThrow(/repeats/)
    expect(() => Keyring.parse(`1:${k1},1:${k2}`)).toThrow(/twice/)
    expect(() => Keyring.parse(`0:${k1}`)).toThrow(/positive/)
    expect(Keyring.parse('a'.repeat(64)).currentVersion).toBe(1)
  })

  it('fingerprints differ per key and do not reveal it', () => {
    const ring = Keyring.parse(`2:${k2},1:${k1}`)
    expect(ring.fingerprint(1)).not.toBe(ring.fingerprint(2))
    expect(ring.fingerprint(1)).not.toContain(k1.slice(0, 8))
  })
})

describe('API keys', () => {
  it('round-trips and verifies only the right secret', () => {
    const k = generateApiKey()
    expect(k.key).toMatch(/^lk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
    const parsed = parseApiKey(k.key)!
    expect(parsed.id).toBe(k.id)
    expect(verifySecret(parsed.secret, k.hash)).toBe(true)
    expect(
      verifySecret(
        parsed.secret.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')),
        k.hash,
      ),
    ).toBe(false)
    expect(parseApiKey('arc_123')).toBeUndefined()
    expect(k.hash).not.toContain(parsed.secret)
  })
})
