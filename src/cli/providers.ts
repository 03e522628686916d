/**
 * @module cli/providers
 * `latchkey providers list`: the built-in catalog and which providers are configured.
 */
import type { Command } from 'commander'
import { catalogView } from '../http/routes/providers.js'
import { type GlobalOptions, printTable, withLatchkey } from './offline.js'

export function providersCommand(program: Command): void {
  program
    .command('providers')
    .description('providers')
    .command('list')
    .description('built-in providers and whether each is configured here')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        const configured = lk.ctx.registry.list()
        const rows = Object.values(lk.ctx.registry.catalog).map((d) => catalogView(d, configured))
        if (opts.json) return printTable(rows, true)
        printTable(
          rows.map((r) => ({
            id: r.id,
            name: r.display_name,
            configured: r.configured ? `yes (${r.configured_ids.join(',')})` : 'no',
            settings: Object.keys(r.settings),
            pkce: r.pkce,
            refresh: r.refresh_tokens,
          })),
          false,
        )
        const custom = configured.filter((p) => !lk.ctx.registry.catalog[p.type])
        if (custom.length) process.stdout.write(`\nCustom providers: ${custom.map((p) => `${p.id} (${p.source})`).join(', ')}\n`)
      })
    })
}
