/**
 * @module crypto/keyring
 * Versioned AES-256-GCM encryption for secrets at rest (access/refresh tokens, client secrets).
 *
 * Envelope: `lk1.<keyVersion>.<iv b64url>.<tag b64url>.<ciphertext b64url>`. The newest key
 * (highest version) encrypts; every configured key decrypts, so keys rotate without downtime:
 * add a new version, restart, run `latchkey keys rotate-encryption`, then drop the old key.
 * The row's id is bound as additional authenticated data, so a ciphertext copied into
 * another row (token substitution) fails to decrypt.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, type KeyObject, randomBytes } from 'node:crypto'

const PREFIX = 'lk1'

export interface EncryptionKey {
  version: number
  key: Buffer
}

export class Keyring {
  readonly keys: ReadonlyMap<number, Buffer>
  readonly currentVersion: number
  /**
   * The keys as KeyObjects, made once: a raw Buffer key is imported into a new native key object
   * by every createCipheriv/createDecipheriv call, part of the fixed per-call cost that dominated
   * the ~28 µs of decrypting one token on the cold path.
   */
  readonly #keyObjects = new Map<number, KeyObject>()

  constructor(keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new TypeError('at least one encryption key is required')
    const map = new Map<number, Buffer>()
    const seen = new Set<string>()
    for (const { version, key } of keys) {
      if (!Number.isInteger(version) || version < 1)
        throw new TypeError(`encryption key version must be a positive integer, got ${version}`)
      if (key.length !== 32) throw new TypeError(`encryption key version ${version} must be 32 bytes, got ${key.length}`)
      if (map.has(version)) throw new TypeError(`encryption key version ${version} is listed twice`)
      const hex = key.toString('hex')
      if (seen.has(hex)) throw new TypeError(`encryption key version ${version} repeats another version's key`)
      seen.add(hex)
      map.set(version, key)
    }
    this.keys = map
    for (const [version, key] of map) this.#keyObjects.set(version, createSecretKey(key))
    this.currentVersion = Math.max(...map.keys())
  }

  /** Parse `"2:<base64>,1:<base64>"` or a single base64/hex 32-byte key (version 1). */
  static parse(spec: string): Keyring {
    const parts = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const keys = parts.map((part, i) => {
      const m = /^(\d+):(.+)$/.exec(part)
      const version = m ? Number(m[1]) : parts.length === 1 ? 1 : i + 1
      const raw = m ? m[2]! : part
      return { version, key: decodeKey(raw) }
    })
    return new Keyring(keys)
  }

  static generateKey(): string {
    return randomBytes(32).toString('base64')
  }

  /** A short, non-reversible id of each key, stored so a wrong key is detected at start-up. */
  fingerprint(version: number): string {
    const key = this.keys.get(version)
    if (!key) throw new TypeError(`no encryption key version ${version}`)
    return createHash('sha256').update('latchkey-key-fingerprint').update(key).digest('base64url').slice(0, 16)
  }

  encrypt(plaintext: string, aad: string): string {
    const key = this.#keyObjects.get(this.currentVersion)!
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    cipher.setAAD(Buffer.from(aad, 'utf8'))
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return `${PREFIX}.${this.currentVersion}.${iv.toString('base64url')}.${tag.toString('base64url')}.${ct.toString('base64url')}`
  }

  decrypt(envelope: string, aad: string): string {
    const parts = envelope.split('.')
    if (parts.length !== 5 || parts[0] !== PREFIX) throw new Error('not a Latchkey ciphertext')
    const version = Number(parts[1])
    const key = this.#keyObjects.get(version)
    if (!key) throw new Error(`ciphertext uses encryption key version ${version}, which is not configured`)
    const tag = Buffer.from(parts[3]!, 'base64url')
    // Pin the tag length: GCM would otherwise accept truncated tags down to 4 bytes.
    if (tag.length !== 16) throw new Error('ciphertext has a malformed authentication tag')
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'), { authTagLength: 16 })
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(Buffer.from(parts[4]!, 'base64url')), decipher.final()]).toString('utf8')
  }

  /** Key version an envelope was written with. */
  static versionOf(envelope: string): number {
    return Number(envelope.split('.')[1])
  }
}

function decodeKey(raw: string): Buffer {
  const hex = /^[0-9a-fA-F]{64}$/.test(raw)
  const key = hex ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64')
  if (key.length !== 32)
    throw new TypeError(
      'an encryption key must be 32 bytes, given as base64 or 64 hex characters (generate one with `latchkey keys generate-encryption-key`)',
    )
  return key
}
