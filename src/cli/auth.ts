/**
 * @module cli/auth
 * `latchkey auth <provider> --user <id> --scopes a,b`: asks a running Latchkey for a token
 * through the client SDK, prints the link, waits for the user, prints the token. `--account`
 * picks one of the user's accounts; `--mark-invalid <cn_…>` reports a credential that stopped working.
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
    .option(
      '-a, --account <selector>',
      "which of the user's accounts: a connection id (cn_…) or an account id/email (default: the default account)",
    )
    .option('--mark-invalid <connection>', 'instead: mark this connection (cn_…) of the user invalid (its credential stopped working)')
    .action(
      async (
        provider: string,
        opts: { user: string; scopes: string; timeout: number; json?: boolean; account?: string; markInvalid?: string },
      ) => {
        const client = new Latchkey()
        if (opts.markInvalid !== undefined) {
          const r = await client.auth.markInvalid({ user_id: opts.user, connection_id: opts.markInvalid })
          process.stderr.write(`Marked ${r.connection_id} of ${opts.user} invalid (${r.status}); the next authorize hands out a new link\n`)
          return
        }
        const scopes = opts.scopes.split(/[\s,]+/).filter(Boolean)
        let auth = await client.auth.start(opts.user, provider, { scopes, ...(opts.account ? { account: opts.account } : {}) })
        if (auth.status !== 'completed') {
          process.stderr.write(`Open this link to grant access (valid for a few minutes):\n\n    ${auth.url}\n\nWaiting…\n`)
          auth = await client.auth.waitForCompletion(auth, { timeoutMs: opts.timeout * 1000 })
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(auth, null, 2)}\n`)
          return
        }
        const account = auth.account
          ? `, account ${auth.account.label ?? auth.account.id ?? '?'} ${auth.account.connection_id}${auth.account.default ? ' (default)' : ''}`
          : ''
        process.stderr.write(`Authorized ${auth.user_id} for ${auth.provider_id} (scopes: ${(auth.scopes ?? []).join(' ')}${account})\n`)
        process.stdout.write(`${auth.context?.token}\n`)
      },
    )
}
