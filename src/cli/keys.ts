/**
 * @module cli/keys
 * `latchkey keys …`: API keys (create, list, revoke) and encryption keys (generate, rotate).
 */
import type { Command } from 'commander'
import { forgetKeyVersion, rotateEncryption } from '../broker/rotate-encryption.js'
import { Keyring } from '../crypto/keyring.js'
import { apiKeyView } from '../http/routes/admin-keys.js'
import { type GlobalOptions, printTable, withLatchkey } from './offline.js'

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('API keys and encryption keys')

  keys
    .command('create')
    .description('create an API key (printed once)')
    .option('-n, --name <name>', 'a name to recognise the key by', 'cli')
    .option('-r, --role <role>', 'admin (all endpoints) or runtime (authorize, status, confirm_user)', 'runtime')
    .option('--expires-in-days <days>', 'expire the key after this many days', (v) => Number(v))
    .action(async (opts: { name: string; role: string; expiresInDays?: number }) => {
      if (opts.role !== 'admin' && opts.role !== 'runtime') throw new Error('--role must be admin or runtime')
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        const { key, row } = await lk.apiKeys.create({
          name: opts.name,
          role: opts.role as 'admin' | 'runtime',
          expiresAt: opts.expiresInDays ? Date.now() + opts.expiresInDays * 86_400_000 : null,
        })
        lk.ctx.audit.record({ actor: 'cli', action: 'api_key.created', detail: { key_id: row.id, role: row.role } })
        process.stdout.write(`Created ${row.role} key ${row.id} (${row.name}). It is shown once:\n\n    ${key}\n\n`)
      })
    })

  keys
    .command('list')
    .description('list API keys (ids and metadata; secrets are never stored)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        printTable(
          (await lk.store.listApiKeys()).map((k) => apiKeyView(k)),
          opts.json,
        )
      })
    })

  keys
    .command('revoke <id>')
    .description('revoke an API key (takes effect on every process within seconds)')
    .action(async (id: string) => {
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        if (!(await lk.apiKeys.revoke(id.replace(/^lk_/, '').split('_')[0]!))) throw new Error(`no active API key ${id}`)
        lk.ctx.audit.record({ actor: 'cli', action: 'api_key.revoked', detail: { key_id: id } })
        process.stdout.write(`Revoked ${id}\n`)
      })
    })

  keys
    .command('generate-encryption-key')
    .description('print a new random 32-byte encryption key (base64) for LATCHKEY_ENCRYPTION_KEYS')
    .action(() => {
      process.stdout.write(`${Keyring.generateKey()}\n`)
    })

  keys
    .command('forget-encryption-version <version>')
    .description('stop requiring an encryption key version at start (refused while any stored secret uses it)')
    .action(async (version: string) => {
      const v = Number(version)
      if (!Number.isInteger(v) || v < 1) throw new Error('the version is a positive integer')
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        const inUse = await forgetKeyVersion(lk.store, v)
        if (inUse > 0)
          throw new Error(
            `${inUse} stored secrets still use key version ${v}: add the key back and run \`latchkey keys rotate-encryption\` first`,
          )
        lk.ctx.audit.record({ actor: 'cli', action: 'encryption.version_forgotten', detail: { key_version: v } })
        process.stdout.write(`Key version ${v} is no longer required at start.\n`)
      })
    })

  keys
    .command('rotate-encryption')
    .description('re-encrypt every stored secret with the newest key in LATCHKEY_ENCRYPTION_KEYS (online, resumable)')
    .option('--batch-size <n>', 'rows per batch', (v) => Number(v), 200)
    .option('--wait <seconds>', 'wait this long for every running process to hold the newest key', (v) => Number(v), 0)
    .action(async (opts: { batchSize: number; wait: number }) => {
      await withLatchkey(program.opts<GlobalOptions>(), async (lk) => {
        const target = lk.ctx.vault.keyring.currentVersion
        process.stdout.write(`Re-encrypting with key version ${target}…\n`)
        const result = await rotateEncryption(lk.store, lk.ctx.vault, {
          batchSize: opts.batchSize,
          waitMs: opts.wait * 1000,
          onFleet: (s) => process.stdout.write(`  ${s.holding} of ${s.total} running processes hold key version ${s.version}\n`),
          onProgress: (p) => process.stdout.write(`  ${p.table}: ${p.scanned} scanned, ${p.rewritten} re-encrypted\n`),
        })
        lk.ctx.audit.record({ actor: 'cli', action: 'encryption.rotated', detail: { key_version: target, ...result } })
        process.stdout.write(
          `Done: ${result.scanned} rows scanned, ${result.rewritten} re-encrypted${result.skipped ? `, ${result.skipped} busy rows left for the next run` : ''}.\n` +
            (result.skipped
              ? ''
              : `Every secret now uses key version ${target}; older keys can be removed from LATCHKEY_ENCRYPTION_KEYS.\n`),
        )
      })
    })
}
