/**
 * The rules for writing tokens into a connection (`src/broker/grant.ts`), and the vault helpers
 * they seal with: one case per rule, against a real keyring.
 */
import { describe, expect, it } from 'vitest'
import { connectionFromGrant, identityAfterRefresh, patchFromRefresh, tokenFields } from '../../src/broker/grant.js'
import { Vault } from '../../src/broker/vault.js'
import { Keyring } from '../../src/crypto/keyring.js'
import type { TokenSet } from '../../src/oauth/token-response.js'
import type { ConnectionRow } from '../../src/storage/store.js'

const vault = new Vault(Keyring.parse(`1:${Keyring.generateKey()}`))
const T = 1_800_000_000_000
const tokens = (t: Partial<TokenSet>): TokenSet => ({
  accessToken: 'at-new',
  refreshToken: undefined,
  expiresIn: undefined,
  refreshTokenExpiresIn: undefined,
  scope: undefined,
  tokenType: undefined,
  idToken: undefined,
  kept: {},
  ...t,
})
const flow = { user_id: 'u1', provider_id: 'p', scopes: ['a', 'b'] }

function existingRow(over: Partial<ConnectionRow> = {}): ConnectionRow {
  const sealed = vault.sealTokens('cn_1', { accessToken: 'at-old', refreshToken: 'rt-old' })
  return {
    id: 'cn_1',
    user_id: 'u1',
    provider_id: 'p',
    status: 'active',
    scopes: ['a'],
    requested_scopes: ['a'],
    access_token_enc: sealed.access_token_enc,
    refresh_token_enc: sealed.refresh_token_enc!,
    token_type: 'bearer',
    expires_at: T - 1000,
    token_issued_at: T - 3_600_000,
    refresh_token_expires_at: T + 86_400_000,
    account_id: 'acct-1',
    account_label: 'Ann',
    user_info: { name: 'Ann' },
    created_at: T - 10_000_000,
    updated_at: T - 3_600_000,
    last_used_at: T - 5000,
    last_refresh_at: null,
    last_refresh_error: 'boom',
    refresh_failures: 2,
    refresh_cooldown_until: T + 60_000,
    refresh_lease_owner: null,
    refresh_lease_until: null,
    generation: 4,
    is_default: 1,
    ...over,
  }
}

describe('tokenFields', () => {
  it('uses expires_in, else the provider’s assumed lifetime, else no expiry', () => {
    expect(
      tokenFields('cn_1', tokens({ expiresIn: 60 }), { assumedAccessTokenLifetimeSeconds: 3600 }, undefined, T, vault).expires_at,
    ).toBe(T + 60_000)
    expect(tokenFields('cn_1', tokens({}), { assumedAccessTokenLifetimeSeconds: 3600 }, undefined, T, vault).expires_at).toBe(T + 3_600_000)
    expect(tokenFields('cn_1', tokens({}), {}, undefined, T, vault).expires_at).toBeNull()
  })

  it('keeps the previous refresh token and its expiry when none comes back', () => {
    const prev = existingRow()
    const f = tokenFields('cn_1', tokens({}), {}, prev, T, vault)
    expect(f.refresh_token_enc).toBe(prev.refresh_token_enc)
    expect(f.refresh_token_expires_at).toBe(prev.refresh_token_expires_at)
    expect(f.token_issued_at).toBe(T)
    expect(vault.accessToken({ id: 'cn_1', access_token_enc: f.access_token_enc })).toBe('at-new')
  })

  it('a rotated refresh token replaces the old one and its expiry (null unless given)', () => {
    const prev = existingRow()
    const rotated = tokenFields('cn_1', tokens({ refreshToken: 'rt-new' }), {}, prev, T, vault)
    expect(vault.refreshToken({ id: 'cn_1', refresh_token_enc: rotated.refresh_token_enc })).toBe('rt-new')
    expect(rotated.refresh_token_expires_at).toBeNull()
    const dated = tokenFields('cn_1', tokens({ refreshToken: 'rt-new', refreshTokenExpiresIn: 100 }), {}, prev, T, vault)
    expect(dated.refresh_token_expires_at).toBe(T + 100_000)
  })

  it('seals for the row: a token sealed for one connection does not open as another', () => {
    const f = tokenFields('cn_1', tokens({}), {}, undefined, T, vault)
    expect(() => vault.accessToken({ id: 'cn_2', access_token_enc: f.access_token_enc })).toThrow()
  })
})

describe('connectionFromGrant', () => {
  it('a first grant: scopes asked for when the provider names none, no refresh token', () => {
    const row = connectionFromGrant('cn_9', flow, undefined, { tokens: tokens({ expiresIn: 10 }), info: undefined }, {}, T, vault)
    expect(row).toMatchObject({
      id: 'cn_9',
      user_id: 'u1',
      status: 'active',
      scopes: ['a', 'b'],
      refresh_token_enc: null,
      created_at: T,
      account_id: null,
    })
  })

  it('a re-consent with the same account keeps the old refresh token, label and user info; resets failures', () => {
    const existing = existingRow()
    const row = connectionFromGrant(
      'cn_1',
      flow,
      existing,
      { tokens: tokens({ scope: ['a'] }), info: { userInfo: {}, accountId: 'acct-1', accountLabel: undefined } },
      {},
      T,
      vault,
    )
    expect(row.refresh_token_enc).toBe(existing.refresh_token_enc)
    expect(row.refresh_token_expires_at).toBe(existing.refresh_token_expires_at)
    // The provider granted fewer than asked: the row keeps both (the flow is deleted later).
    expect(row).toMatchObject({ scopes: ['a'], requested_scopes: ['a', 'b'] })
    expect(row).toMatchObject({
      account_label: 'Ann',
      created_at: existing.created_at,
      refresh_failures: 0,
      refresh_cooldown_until: null,
      last_refresh_error: null,
    })
  })

  it('a re-consent with another account inherits nothing of the first grant', () => {
    const existing = existingRow()
    const row = connectionFromGrant(
      'cn_1',
      flow,
      existing,
      { tokens: tokens({}), info: { userInfo: { name: 'Bob' }, accountId: 'acct-2', accountLabel: undefined } },
      {},
      T,
      vault,
    )
    expect(row.refresh_token_enc).toBeNull()
    expect(row.refresh_token_expires_at).toBeNull()
    expect(row.account_label).toBeNull()
    expect(row.user_info).toEqual({ name: 'Bob' })
  })
})

describe('patchFromRefresh', () => {
  it('keeps scopes and token type the provider does not repeat, clears the failure state', () => {
    const current = existingRow()
    const patch = patchFromRefresh(current, tokens({ expiresIn: 60 }), undefined, {}, T, vault)
    expect(patch).toMatchObject({
      scopes: ['a'],
      token_type: 'bearer',
      expires_at: T + 60_000,
      token_issued_at: T,
      last_refresh_at: T,
      refresh_failures: 0,
      refresh_cooldown_until: null,
      last_refresh_error: null,
    })
    expect(patch.refresh_token_enc).toBe(current.refresh_token_enc)
  })

  it('merges kept fields and a user-info answer over the stored identity', () => {
    const current = existingRow()
    expect(identityAfterRefresh(current, {}, undefined)).toEqual({})
    expect(identityAfterRefresh(current, { instance: 'x' }, undefined)).toEqual({ user_info: { name: 'Ann', instance: 'x' } })
    expect(identityAfterRefresh(current, {}, { userInfo: { email: 'a@x' }, accountId: undefined, accountLabel: 'Ann B' })).toEqual({
      user_info: { name: 'Ann', email: 'a@x' },
      account_id: 'acct-1',
      account_label: 'Ann B',
    })
  })
})
