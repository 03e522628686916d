/**
 * @module cli/banner
 * What `latchkey serve` prints once it listens: where, which storage, the verification mode
 * and every configured provider with its type and source, so a setting that did not take effect
 * (a provider missing, verification not what was meant) shows at start rather than at the first
 * sign-in.
 */
import type { Config } from '../config.js'
import type { Latchkey } from '../server.js'

const VERIFICATION: Record<Config['verification']['mode'], string> = {
  browser: 'browser (the user confirms in the browser that opened the link)',
  custom: 'custom (your app confirms the user through its verifier page)',
  skip: 'skip (OFF: development only)',
}

export function startBanner(
  latchkey: Latchkey,
  config: Config,
  address: string,
  style: { bold(s: string): string; warn(s: string): string },
): string {
  const providers = latchkey.ctx.registry.list()
  const lines = [
    '',
    `${style.bold('Latchkey')} is listening on ${address} (public URL ${config.publicUrl})`,
    `  storage: ${latchkey.store.dialect === 'postgres' ? 'PostgreSQL' : `SQLite ${config.databaseUrl}`}`,
    `  verification: ${VERIFICATION[config.verification.mode]}${config.verification.mode === 'custom' ? ` at ${config.verification.verifierUrl}` : ''}`,
    providers.length === 0 ? '  providers: (none configured; see README "Providers")' : `  providers (${providers.length}):`,
    ...providers.map(
      (p) =>
        `    ${p.id} (${p.type === 'oauth2' ? 'custom' : p.type}, from ${p.source === 'demo' ? '--dev' : p.source}${p.enabled ? '' : ', disabled'})`,
    ),
    `  OAuth redirect URI to register with providers: ${latchkey.ctx.redirectUri}`,
    ...latchkey.warnings.map((w) => style.warn(`  WARNING: ${w}`)),
  ]
  return `${lines.join('\n')}\n`
}
