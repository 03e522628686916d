/**
 * Prints the README's providers table from the catalog, or rewrites it in place with `--write`
 * (between the `providers:start` / `providers:end` markers). `test/providers/readme.test.ts`
 * fails when the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { catalog } from '../src/providers/catalog.js'

export function providersTable(): string {
  const rows = Object.values(catalog)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((d) => {
      const env = `LATCHKEY_${d.id.toUpperCase().replace(/-/g, '_')}_CLIENT_ID / \`_SECRET\``
      const settings = Object.entries(d.settings ?? {})
        .map(([k, s]) => `\`${k}\`${s.default ? ` (default \`${s.default}\`)` : ' (required)'}`)
        .join(', ')
      const docs = [d.docsUrl].flat()[0]
      const quirks = [
        d.pkce === 'unsupported' ? 'no PKCE' : d.pkce === 'required' ? 'PKCE required' : 'PKCE',
        d.tokenEndpointAuthMethod === 'client_secret_basic' ? 'Basic auth' : 'secret in body',
        d.scopeDelimiter === ',' ? 'comma scopes' : undefined,
        d.refreshTokens === 'none' ? 'no refresh' : d.refreshTokens === 'rotating' ? 'rotating refresh' : 'refresh',
        d.revocationEndpoint ? 'revocation' : undefined,
      ]
        .filter(Boolean)
        .join(', ')
      return `| \`${d.id}\` | [${d.displayName}](${docs}) | \`${env} | ${settings || '—'} | ${quirks} |`
    })
  return ['| id | provider (docs) | environment | settings | behaviour |', '|---|---|---|---|---|', ...rows].join('\n')
}

const START = '<!-- providers:start -->'
const END = '<!-- providers:end -->'

export function readmeWithTable(readme: string): string {
  const a = readme.indexOf(START)
  const b = readme.indexOf(END)
  if (a < 0 || b < a) throw new Error('README.md has no providers:start/end markers')
  return `${readme.slice(0, a + START.length)}\n${providersTable()}\n${readme.slice(b)}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = fileURLToPath(new URL('../README.md', import.meta.url))
  if (process.argv.includes('--write')) writeFileSync(path, readmeWithTable(readFileSync(path, 'utf8')))
  else console.log(providersTable())
}
