/**
 * @module cli/serve
 * `latchkey serve [--dev]`: starts the server and prints how to use it.
 */
import type { Command } from 'commander'
import { loadConfig } from '../config.js'
import { createLatchkey } from '../server.js'
import { startBanner } from './banner.js'
import { handOverInitialKey } from './initial-key.js'

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('start the Latchkey server')
    .option('--dev', 'development mode: also serve the built-in demo OAuth provider as provider "demo"')
    .option('-p, --port <port>', 'port to listen on (LATCHKEY_PORT, default 9099)', (v) => Number(v))
    .action(async (opts: { dev?: boolean; port?: number }) => {
      const configFile = program.opts<{ config?: string }>().config
      const config = loadConfig({
        overrides: {
          dev: opts.dev ?? false,
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(configFile ? { configFile } : {}),
        },
      })
      if (opts.port !== undefined && !process.env['LATCHKEY_PUBLIC_URL']) config.publicUrl = `http://localhost:${opts.port}`
      const latchkey = await createLatchkey(config)
      const address = await latchkey.listen()
      const out = process.stdout
      const bold = (s: string) => (out.isTTY ? `\x1b[1m${s}\x1b[0m` : s)
      const warn = (s: string) => (out.isTTY ? `\x1b[33m${s}\x1b[0m` : s)
      out.write(startBanner(latchkey, config, address, { bold, warn }))
      const initial = latchkey.initialApiKey
        ? handOverInitialKey(latchkey.initialApiKey, config.initialAdminKeyFile, out.isTTY === true, bold)
        : undefined
      if (initial) out.write(initial.text)
      out.write(`${bold('Try it')}${config.dev ? '' : ' (start with --dev for the built-in demo provider)'}:\n`)
      out.write(`    export LATCHKEY_API_KEY=${initial?.printable ?? '<your key>'} LATCHKEY_BASE_URL=${config.publicUrl}\n`)
      out.write(`    npx latchkey auth demo --user alice --scopes openid,profile\n\n`)
      const stop = async (signal: string) => {
        latchkey.ctx.log.info({ signal }, 'shutting down')
        await latchkey.close()
        process.exit(0)
      }
      process.once('SIGINT', () => void stop('SIGINT'))
      process.once('SIGTERM', () => void stop('SIGTERM'))
    })
}
