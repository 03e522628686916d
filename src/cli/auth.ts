/**
 * @module cli/auth
 * `latchkey auth <provider> --user <id> --scopes a,b`: asks a running Latchkey for a token
 * through the client SDK, prints the link, waits for the user, prints the token.
 */

import { Latchkey } from '@latchkey/client'
import type { Command } from 'commander'

export function authCommand(program: Command): void {
  program
    .command('auth <provider>')
    .description('get an access token for a user from a running server (LATCHKEY_API_KEY, LATCHKEY_BASE_URL)')
    .requiredOption('-u, --user <id>', 'the user to authorize')
    .option('-s, --scopes <list>', 'comma- or space-separated scopes', '')
    .option('--timeout <seconds>', 'give up after this long', (v) => Number(v), 600)
    .option('--json', 'print the whole authorization response as JSON')
    .action(async (provider: string, opts: { user: string; scopes: string; timeout: number; json?: boolean }) => {
      const client = new Latchkey()
      const scopes = opts.scopes.split(/[\s,]+/).filter(Boolean)
      let auth = await client.auth.start(opts.user, provider, { scopes })
      if (auth.status !== 'completed') {
        process.stderr.write(`Open this link to grant access (valid for a few minutes):\n\n    ${auth.url}\n\nWaiting…\n`)
        auth = await client.auth.waitForCompletion(auth, { timeoutMs: opts.timeout * 1000 })
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(auth, null, 2)}\n`)
        return
      }
      process.stderr.write(`Authorized ${auth.user_id} for ${auth.provider_id} (scopes: ${(auth.scopes ?? []).join(' ')})\n`)
      process.stdout.write(`${auth.context?.token}\n`)
    })
}
