/**
 * @module cli/misc
 * `latchkey migrate` and `latchkey audit`.
 */
import type { Command } from 'commander'
import { loadConfig } from '../config.js'
import { openStore } from '../storage/open-store.js'
import { type GlobalOptions, printTable, withLatchkey } from './offline.js'

export function miscCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations (they also run at every start)')
    .action(async () => {
      const opts = program.opts<GlobalOptions>()
      const config = loadConfig({ overrides: opts.config ? { configFile: opts.config } : {} })
      const store = openStore({ url: config.databaseUrl })
      try {
        const applied = await store.migrate()
        process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n')
      } finally {
        await store.close()
      }
    })

  program
    .command('audit')
    .description('who got which token, and every change to connections and keys (newest first)')
    .option('-u, --user <id>', 'only this user')
    .option('-p, --provider <id>', 'only this provider')
    .option('-a, --action <action>', 'only this action, e.g. token.issued')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { user?: string; provider?: string; action?: string; limit: number; json?: boolean }) => {
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        const { items } = await lk.store.listAudit({ user_id: opts.user, provider_id: opts.provider, action: opts.action }, opts.limit, 0)
        printTable(
          items.map((e) => ({
            at: new Date(e.at).toISOString(),
            action: e.action,
            actor: e.actor,
            user: e.user_id,
            provider: e.provider_id,
            connection: e.connection_id,
            ...(opts.json ? { detail: e.detail } : {}),
          })),
          opts.json,
        )
      })
    })
}
