/**
 * @module broker/select-connection
 * Which connection serves a request for (user, provider): the one place that decides it, so
 * the proxy and any later caller agree. Today a user has at most one connection per provider;
 * the selector (a connection id, or a provider account id or label) narrows it and refuses a
 * connection that does not match, so a caller that names an account never gets another one.
 */
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'

export interface ConnectionSelector {
  /** `cn_…`: exactly this connection (it must belong to the user and provider). */
  connectionId?: string | undefined
  /** The provider account: its id or its label (e.g. the e-mail address the user consented with). */
  account?: string | undefined
}

/** The user's connection to the provider that the selector names, or undefined. No state filter: the caller decides. */
export async function selectConnection(
  ctx: BrokerContext,
  userId: string,
  providerId: string,
  selector: ConnectionSelector = {},
): Promise<ConnectionRow | undefined> {
  const c = await ctx.connectionCache.get(userId, providerId)
  if (c === undefined) return undefined
  if (selector.connectionId !== undefined && c.id !== selector.connectionId) return undefined
  if (selector.account !== undefined && c.account_id !== selector.account && c.account_label !== selector.account) return undefined
  return c
}
