/**
 * @module cli/main
 * The `latchkey` command. Server-side commands (serve, migrate, keys, connections, providers,
 * audit) work on the configured database directly; `auth` talks to a running server through
 * the client SDK.
 */

import { APIConnectionError, APIError, AuthorizationFailedError, AuthorizationTimeoutError } from '@latchkey/client'
import { Command } from 'commander'
import { RotationRefused } from '../broker/rotate-encryption.js'
import { ConfigError } from '../config.js'
import { LatchkeyError } from '../errors.js'
import { authCommand } from './auth.js'
import { connectionsCommand } from './connections.js'
import { keysCommand } from './keys.js'
import { miscCommands } from './misc.js'
import { providersCommand } from './providers.js'
import { serveCommand } from './serve.js'
import { webhooksCommand } from './webhooks.js'

const program = new Command()
program
  .name('latchkey')
  .description('Authorization broker for AI agents')
  .version('0.1.0')
  .option('-c, --config <file>', 'configuration file (LATCHKEY_CONFIG, default ./latchkey.yaml if present)')
serveCommand(program)
authCommand(program)
keysCommand(program)
connectionsCommand(program)
webhooksCommand(program)
providersCommand(program)
miscCommands(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const known = [ConfigError, RotationRefused, APIError, APIConnectionError, AuthorizationFailedError, AuthorizationTimeoutError]
  // A LatchkeyError with a 4xx status is the user's input (a webhook URL refused, an unknown id).
  const input = err instanceof LatchkeyError && err.status < 500
  if (input || known.some((k) => err instanceof k) || (err instanceof Error && err.constructor === Error)) {
    console.error(`latchkey: ${(err as Error).message}`)
    process.exit(1)
  }
  throw err
}
