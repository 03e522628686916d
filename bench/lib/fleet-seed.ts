/**
 * Seeding for the `fleet` scenario: copies of one connection made through the real flow (same
 * provider, scopes and user info, each its own id and user), their tokens sealed with the fleet's
 * keyring bound to their own row id exactly as a grant stores them, inserted in batches through
 * the store's Kysely instance. Thousands of grants through the flow would take minutes.
 *
 * Kept apart from the other scenarios' seeding on purpose (those are being reworked separately).
 */
import { randomUUID } from 'node:crypto'
import { Vault } from '../../src/broker/vault.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { openStore } from '../../src/storage/open-store.js'

export interface SeedBatch {
  /** User ids to create, one connection each. */
  users: string[]
  /**
   * `fresh`: the template's tokens, a day left (reads are answered without a refresh).
   * `due`: an access token that expired a second ago and `refreshToken()` as its refresh token.
   */
  kind: 'fresh' | 'due'
  refreshToken?: () => string
}

export async function seedFleetConnections(
  databaseUrl: string,
  encryptionKeys: string,
  template: { userId: string; providerId: string },
  batches: SeedBatch[],
): Promise<void> {
  const store = openStore({ url: databaseUrl })
  try {
    const row = await store.getConnection(template.userId, template.providerId)
    if (!row) throw new Error(`no connection for ${template.userId} at ${template.providerId} to copy`)
    const vault = new Vault(Keyring.parse(encryptionKeys))
    const token = vault.open({ table: 'connections', id: row.id, field: 'access_token' }, row.access_token_enc)
    const refresh = row.refresh_token_enc && vault.open({ table: 'connections', id: row.id, field: 'refresh_token' }, row.refresh_token_enc)
    const now = Date.now()
    for (const batch of batches) {
      if (batch.kind === 'due' && !batch.refreshToken) throw new Error('due connections need refreshToken()')
      for (let i = 0; i < batch.users.length; i += 500) {
        const rows = batch.users.slice(i, i + 500).map((user) => {
          const id = randomUUID()
          const due = batch.kind === 'due'
          const refreshToken = due ? batch.refreshToken!() : refresh
          return {
            ...row,
            id,
            user_id: user,
            access_token_enc: vault.seal({ table: 'connections', id, field: 'access_token' }, due ? `expired-${id}` : token),
            refresh_token_enc: refreshToken ? vault.seal({ table: 'connections', id, field: 'refresh_token' }, refreshToken) : null,
            refresh_token_expires_at: null,
            expires_at: due ? now - 1000 : now + 86_400_000,
            token_issued_at: due ? now - 3_600_000 : now,
            scopes: JSON.stringify(row.scopes),
            requested_scopes: row.requested_scopes === null ? null : JSON.stringify(row.requested_scopes),
            user_info: row.user_info === null ? null : JSON.stringify(row.user_info),
            generation: 0,
          }
        })
        await store.db.insertInto('connections').values(rows).execute()
      }
    }
  } finally {
    await store.close()
  }
}
