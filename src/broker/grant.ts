/**
 * @module broker/grant
 * Writing tokens into a connection, in one place: a first grant or re-consent (the callback,
 * `connectionFromGrant`) and a refresh (`patchFromRefresh`) share `tokenFields`, which holds the
 * rules both must apply alike:
 * - a token without `expires_in` lives the provider's assumed lifetime, if it declares one;
 * - a provider that returns no new refresh token keeps the one we have (and its expiry);
 * - `token_issued_at` is when the token arrived (the refresh margin is at most half its life).
 * Pure functions: the caller supplies the time and the vault.
 */
import type { TokenSet } from '../oauth/token-response.js'
import type { UserInfo } from '../oauth/user-info.js'
import type { ProviderDefinition } from '../providers/define-provider.js'
import type { ConnectionPatch, ConnectionRow, FlowRow } from '../storage/store.js'
import type { Vault } from './vault.js'

/** What a code exchange yields: the tokens and who they belong to at the provider. */
export interface Grant {
  tokens: TokenSet
  info: UserInfo | undefined
}

/** A grant held on its flow (custom verification), and when the app confirmed the user, once it has. */
export interface HeldGrant extends Grant {
  confirmedAt?: number | undefined
}

type TokenColumns = Pick<
  ConnectionRow,
  'access_token_enc' | 'refresh_token_enc' | 'refresh_token_expires_at' | 'expires_at' | 'token_issued_at'
>
type Sealer = Pick<Vault, 'sealTokens'>
type Lifetime = Pick<ProviderDefinition, 'assumedAccessTokenLifetimeSeconds'>

/**
 * The token columns after `tokens` arrived at `at` for connection `id`. `previous` holds what a
 * refresh token-less answer keeps (none when there is nothing to keep).
 */
export function tokenFields(
  id: string,
  tokens: TokenSet,
  def: Lifetime,
  previous: Pick<ConnectionRow, 'refresh_token_enc' | 'refresh_token_expires_at'> | undefined,
  at: number,
  vault: Sealer,
): TokenColumns {
  const sealed = vault.sealTokens(id, tokens)
  const expiresIn = tokens.expiresIn ?? def.assumedAccessTokenLifetimeSeconds
  const rotated = sealed.refresh_token_enc !== undefined
  return {
    access_token_enc: sealed.access_token_enc,
    // A provider that does not rotate returns no refresh token: keep the one we have.
    refresh_token_enc: sealed.refresh_token_enc ?? previous?.refresh_token_enc ?? null,
    refresh_token_expires_at:
      tokens.refreshTokenExpiresIn !== undefined
        ? at + tokens.refreshTokenExpiresIn * 1000
        : rotated
          ? null
          : (previous?.refresh_token_expires_at ?? null),
    expires_at: expiresIn === undefined ? null : at + expiresIn * 1000,
    token_issued_at: at,
  }
}

/**
 * The full connection row a grant writes for `flow`. `existing` is the user's current connection
 * for the provider (its id is kept). What the old grant leaves behind (its refresh token, its
 * identity) is kept only for the same provider account: a re-consent with another account must
 * not inherit the first one's grant.
 */
export function connectionFromGrant(
  id: string,
  flow: Pick<FlowRow, 'user_id' | 'provider_id' | 'scopes'>,
  existing: ConnectionRow | undefined,
  grant: Grant,
  def: Lifetime,
  now: number,
  vault: Sealer,
): Omit<ConnectionRow, 'generation' | 'is_default'> {
  const { tokens, info } = grant
  const same = existing !== undefined && (info?.accountId ?? null) === existing.account_id ? existing : undefined
  return {
    id,
    user_id: flow.user_id,
    provider_id: flow.provider_id,
    status: 'active',
    // Granted scopes: what the provider says it granted, else what was asked for.
    scopes: tokens.scope ?? flow.scopes,
    // Requested: what this grant asked the provider for (kept here: the flow is deleted later).
    requested_scopes: flow.scopes,
    ...tokenFields(id, tokens, def, same, now, vault),
    token_type: tokens.tokenType ?? null,
    account_id: info?.accountId ?? null,
    account_label: info?.accountLabel ?? same?.account_label ?? null,
    user_info: info?.userInfo ?? same?.user_info ?? null,
    created_at: existing?.created_at ?? now,
    updated_at: now,
    last_used_at: existing?.last_used_at ?? null,
    last_refresh_at: existing?.last_refresh_at ?? null,
    last_refresh_error: null,
    refresh_failures: 0,
    refresh_cooldown_until: null,
    refresh_lease_owner: existing?.refresh_lease_owner ?? null,
    refresh_lease_until: existing?.refresh_lease_until ?? null,
  }
}

/**
 * The identity columns after a refresh: kept token-response fields merge into the user info; a
 * user-info call made on refresh (`info`) replaces what it returns and keeps the rest.
 */
export function identityAfterRefresh(
  current: Pick<ConnectionRow, 'user_info' | 'account_id' | 'account_label'>,
  kept: Record<string, unknown>,
  info: UserInfo | undefined,
): Pick<ConnectionPatch, 'user_info' | 'account_id' | 'account_label'> {
  if (info) {
    return {
      user_info: { ...current.user_info, ...info.userInfo, ...kept },
      account_id: info.accountId ?? current.account_id,
      account_label: info.accountLabel ?? current.account_label,
    }
  }
  return Object.keys(kept).length > 0 ? { user_info: { ...current.user_info, ...kept } } : {}
}

/** The patch a successful refresh writes over `current` at `at`. */
export function patchFromRefresh(
  current: ConnectionRow,
  tokens: TokenSet,
  info: UserInfo | undefined,
  def: Lifetime,
  at: number,
  vault: Sealer,
): ConnectionPatch {
  return {
    ...tokenFields(current.id, tokens, def, current, at, vault),
    scopes: tokens.scope ?? current.scopes,
    token_type: tokens.tokenType ?? current.token_type,
    last_refresh_at: at,
    last_refresh_error: null,
    refresh_failures: 0,
    refresh_cooldown_until: null,
    updated_at: at,
    ...identityAfterRefresh(current, tokens.kept, info),
  }
}
