/**
 * @module crypto/api-keys
 * App API keys in Lucia's session pattern: `lk_<id>_<secret>`. Only SHA-256(secret) is
 * stored; the key is looked up by id and the hash compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export interface ParsedApiKey {
  id: string
  secret: string
}

const KEY_RE = /^lk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/

export function generateApiKey(): { id: string; secret: string; key: string; hash: string } {
  const id = randomId(12)
  const secret = randomBytes(32).toString('base64url')
  return { id, secret, key: `lk_${id}_${secret}`, hash: hashSecret(secret) }
}

export function parseApiKey(key: string): ParsedApiKey | undefined {
  const m = KEY_RE.exec(key)
  return m ? { id: m[1]!, secret: m[2]! } : undefined
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

export function verifySecret(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret))
  const b = Buffer.from(storedHash)
  return a.length === b.length && timingSafeEqual(a, b)
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
/** Random lower-case alphanumeric id (unbiased). */
export function randomId(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 252 && out.length < length) out += ALPHABET[b % 36]
    }
  }
  return out
}

/** Constant-time string equality (for `state` and other secrets). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  return ab.length === bb.length && timingSafeEqual(ab, bb)
}
