/**
 * @module cli/webhooks
 * `latchkey webhooks …`: the admin API's webhook operations, offline against the database
 * (create, list, get, update, enable, disable, delete, rotate-secret, deliveries, redeliver).
 */
import type { Command } from 'commander'
import { type GlobalOptions, printTable, withLatchkey } from './offline.js'

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

export function webhooksCommand(program: Command): void {
  const webhooks = program.command('webhooks').description('webhook endpoints and their deliveries')
  const run = (fn: Parameters<typeof withLatchkey>[1]) => withLatchkey(program.opts<GlobalOptions>(), fn)

  webhooks
    .command('create <url>')
    .description('add an endpoint (its signing secret is printed once)')
    .option('-e, --events <types>', 'comma-separated event types, <group>.* or * (default: *)', list)
    .option('-d, --description <text>', 'a description')
    .option('--disabled', 'create it disabled')
    .action(async (url: string, opts: { events?: string[]; description?: string; disabled?: boolean }) => {
      await run(async (lk) => {
        const e = await lk.webhooks.create({ url, events: opts.events, description: opts.description, enabled: !opts.disabled }, 'cli')
        process.stdout.write(`Created webhook endpoint ${e.id} for ${e.url}. Its signing secret is shown once:\n\n    ${e.secret}\n\n`)
      })
    })

  webhooks
    .command('list')
    .description('list endpoints (no secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await run(async (lk) => printTable(await lk.webhooks.list(), opts.json))
    })

  webhooks
    .command('get <id>')
    .description('show one endpoint')
    .action(async (id: string) => {
      await run(async (lk) => printTable([await lk.webhooks.get(id)], true))
    })

  webhooks
    .command('update <id>')
    .description('change an endpoint (API endpoints only: config ones are changed in latchkey.yaml)')
    .option('-u, --url <url>', 'the new URL')
    .option('-e, --events <types>', 'comma-separated event types', list)
    .option('-d, --description <text>', 'a description')
    .action(async (id: string, opts: { url?: string; events?: string[]; description?: string }) => {
      await run(async (lk) => printTable([await lk.webhooks.update(id, opts, 'cli')], true))
    })

  webhooks
    .command('enable <id>')
    .description('enable an endpoint again (a failing one resumes its pending deliveries)')
    .action(async (id: string) => {
      await run(async (lk) => printTable([await lk.webhooks.update(id, { enabled: true }, 'cli')], true))
    })

  webhooks
    .command('disable <id>')
    .description('stop sending to an endpoint')
    .action(async (id: string) => {
      await run(async (lk) => printTable([await lk.webhooks.update(id, { enabled: false }, 'cli')], true))
    })

  webhooks
    .command('delete <id>')
    .description('delete an endpoint and its deliveries')
    .action(async (id: string) => {
      await run(async (lk) => {
        await lk.webhooks.delete(id, 'cli')
        process.stdout.write(`Deleted webhook endpoint ${id}\n`)
      })
    })

  webhooks
    .command('rotate-secret <id>')
    .description('new signing secret (printed once); the previous one also signs for 24 hours')
    .action(async (id: string) => {
      await run(async (lk) => {
        const r = await lk.webhooks.rotateSecret(id, 'cli')
        process.stdout.write(
          `New signing secret (the previous one signs too until ${r.previous_secret_expires_at}):\n\n    ${r.secret}\n\n`,
        )
      })
    })

  webhooks
    .command('deliveries <id>')
    .description("an endpoint's deliveries, newest first")
    .option('-s, --status <status>', 'pending, delivered or failed')
    .option('-l, --limit <n>', 'how many', (v) => Number(v), 50)
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { status?: string; limit: number; json?: boolean }) => {
      if (opts.status !== undefined && !['pending', 'delivered', 'failed'].includes(opts.status))
        throw new Error('--status must be pending, delivered or failed')
      await run(async (lk) => {
        const { items } = await lk.webhooks.deliveries(id, { status: opts.status as 'pending' | undefined }, opts.limit, 0)
        printTable(items, opts.json)
      })
    })

  webhooks
    .command('redeliver <id> <delivery_id>')
    .description('send a delivery again (same webhook-id); a running server picks it up')
    .action(async (id: string, deliveryId: string) => {
      await run(async (lk) => {
        await lk.webhooks.redeliver(id, deliveryId, 'cli')
        process.stdout.write(`Queued ${deliveryId} again\n`)
      })
    })
}
