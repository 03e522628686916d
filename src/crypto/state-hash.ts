/**
 * @module crypto/state-hash
 * The OAuth `state` is stored as its SHA-256 and looked up by it: a copy of the database (a
 * backup, a replica, a support dump) does not hand out the values that complete pending sign-ins.
 * The migration that introduced it hashes the states of older rows with this same function.
 */
import { createHash } from 'node:crypto'

export function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('base64url')
}
