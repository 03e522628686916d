/**
 * @module storage/connection-patch
 * A connection patch as the columns an UPDATE sets, in one place for the Kysely write and the
 * prepared SQLite write of the refresh lease (`prepared-lease.ts`): JSON columns serialized,
 * absent fields left out (as Kysely leaves out `undefined`), and whether the write changes a
 * token — then the row's `generation` moves on, so a reader holding the old row loses.
 */
import type { ConnectionPatch } from './store.js'

export interface EncodedPatch {
  set: Record<string, unknown>
  tokensChanged: boolean
}

/** Undefined when the patch sets nothing (an empty SET is a syntax error: the write is a no-op). */
export function encodePatch(patch: ConnectionPatch): EncodedPatch | undefined {
  const set: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue
    set[k] = k === 'scopes' ? JSON.stringify(v) : (k === 'user_info' || k === 'requested_scopes') && v !== null ? JSON.stringify(v) : v
  }
  const tokensChanged = 'access_token_enc' in patch || 'refresh_token_enc' in patch
  if (!tokensChanged && Object.keys(set).length === 0) return undefined
  return { set, tokensChanged }
}
