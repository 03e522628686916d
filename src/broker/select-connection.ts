/**
 * @module broker/select-connection
 * Which of a user's connections for a provider a call is about (several accounts per user and
 * provider). The one function every caller that picks a connection uses (`authorize`, the proxy).
 *
 * - No selector: the user's default connection for the provider (`is_default`): the first one
 *   connected, later the one most recently granted through an authorize without a selector;
 *   when it is deleted, the most recently granted remaining one. Read through the connection
 *   cache, a direct lookup (the hot path stays as it was).
 * - A connection id (`cn_…`): that connection, if it belongs to the user and provider.
 * - Anything else is an account hint: the connection whose provider account id equals it, or
 *   whose account label or user-info email equals it ignoring case.
 */
import type { ConnectionRow } from '../storage/store.js'
import type { BrokerContext } from './context.js'

export const CONNECTION_SELECTOR_PREFIX = 'cn_'

/** The most connections of one user and provider a hint is matched against. */
const MAX_ACCOUNTS = 100

export type AccountSelector = string | undefined

export function isConnectionIdSelector(selector: string): boolean {
  return selector.startsWith(CONNECTION_SELECTOR_PREFIX)
}

export async function selectConnection(
  ctx: Pick<BrokerContext, 'store' | 'connectionCache'>,
  userId: string,
  providerId: string,
  selector?: AccountSelector,
): Promise<ConnectionRow | undefined> {
  if (selector === undefined || selector === '') return ctx.connectionCache.get(userId, providerId)
  if (isConnectionIdSelector(selector)) {
    const c = await ctx.store.getConnectionById(selector)
    return c && c.user_id === userId && c.provider_id === providerId ? c : undefined
  }
  const { items } = await ctx.store.listConnections({ user_id: userId, provider_id: providerId }, MAX_ACCOUNTS, 0)
  return matchAccount(items, selector)
}

/** The connection an account hint names: by provider account id first, then by label or email (case-insensitive). */
export function matchAccount(connections: readonly ConnectionRow[], hint: string): ConnectionRow | undefined {
  const byId = connections.find((c) => c.account_id === hint)
  if (byId) return byId
  const h = hint.toLowerCase()
  return connections.find((c) => {
    const email = c.user_info?.['email']
    return c.account_label?.toLowerCase() === h || (typeof email === 'string' && email.toLowerCase() === h)
  })
}
