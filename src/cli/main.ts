/**
 * @module cli/main
 * The `latchkey` command. Server-side commands (serve, migrate, keys, connections, providers,
 * audit) work on the configured database directly; `auth` talks to a running server through
 * the client SDK.
 */
import { Command } from 'commander'
import { ConfigError } from '../config.js'
import { ProviderConfigError } from '../providers/provider-config.js'
import { serveCommand } from './serve.js'

const program = new Command()
program.name('latchkey').description('Authorization broker for AI agents').version('0.1.0')
serveCommand(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof ConfigError || err instanceof ProviderConfigError) {
    console.error(`latchkey: ${err.message}`)
    process.exit(1)
  }
  throw err
}
