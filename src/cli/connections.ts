/**
 * @module cli/connections
 * `latchkey connections list|show|revoke`: the users' connections and their lifecycle state.
 */
import type { Command } from 'commander'
import { deleteConnection } from '../broker/delete-connection.js'
import { connectionView } from '../http/routes/admin-connections.js'
import { type GlobalOptions, printTable, withLatchkey } from './offline.js'

export function connectionsCommand(program: Command): void {
  const connections = program.command('connections').description("users' connections to providers")

  connections
    .command('list')
    .option('-u, --user <id>', 'only this user')
    .option('-p, --provider <id>', 'only this provider')
    .option('-s, --status <status>', 'active, reauth_required or revoked')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        user?: string
        provider?: string
        status?: 'active' | 'reauth_required' | 'revoked'
        limit: number
        json?: boolean
      }) => {
        await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
          const { items, total } = await lk.store.listConnections(
            { user_id: opts.user, provider_id: opts.provider, status: opts.status },
            opts.limit,
            0,
          )
          const views = items.map((c) => connectionView(lk.ctx, c))
          if (opts.json) return printTable(views, true)
          printTable(
            views.map((v) => ({
              id: v.id,
              user: v.user_id,
              provider: v.provider_id,
              status: v.connection_status,
              account: v.account.label ?? v.account.id,
              scopes: v.scopes,
              expires: v.expires_at,
              last_error: v.last_refresh_error,
            })),
            false,
          )
          if (total > items.length) process.stdout.write(`(${items.length} of ${total})\n`)
        })
      },
    )

  connections
    .command('show <id>')
    .description('full state of one connection (never the tokens)')
    .action(async (id: string) => {
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        const c = await lk.store.getConnectionById(id)
        if (!c) throw new Error(`no connection ${id}`)
        process.stdout.write(`${JSON.stringify(connectionView(lk.ctx, c), null, 2)}\n`)
      })
    })

  connections
    .command('revoke <id>')
    .description('revoke the grant at the provider (when it supports revocation) and delete the connection')
    .action(async (id: string) => {
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        const c = await lk.store.getConnectionById(id)
        if (!c) throw new Error(`no connection ${id}`)
        const r = await deleteConnection(lk.ctx, c, 'cli')
        const how = {
          revoked: 'revoked at the provider',
          not_supported: 'the provider has no revocation endpoint',
          failed: 'revocation at the provider FAILED (see log)',
          skipped: 'provider no longer configured',
        }
        process.stdout.write(`Deleted ${id} (${how[r.providerRevocation]})\n`)
      })
    })
}
