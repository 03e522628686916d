/**
 * Prints the README's two error tables from their catalogs, or rewrites them in place with
 * `--write` (`npm run docs:errors`): the API error codes (`src/errors.ts`, between the
 * `errors:start` / `errors:end` markers) and the reasons a flow fails
 * (`packages/client/src/failure-codes.ts`, between `flow-failures:start` / `flow-failures:end`).
 * `test/unit/errors-readme.test.ts` fails when the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { FLOW_FAILURE_CODES, FLOW_FAILURE_DESCRIPTIONS } from '@latchkey/client'
import { ERROR_CODES, type ErrorCode } from '../src/errors.js'

/** Markdown table cells: a `|` would end the cell. */
const cell = (s: string) => s.replace(/\|/g, '\\|')

export function errorsTable(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[])
    .sort((a, b) => ERROR_CODES[a].status - ERROR_CODES[b].status || a.localeCompare(b))
    .map((code) => {
      const e = ERROR_CODES[code]
      return `| \`${code}\` | ${e.status} | ${e.expose ? 'yes' : 'no (generic, with a request id)'} | ${e.retry ? 'yes' : 'no'} | ${cell(e.description)} |`
    })
  return ['| `name` | status | message shown | retry may succeed | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}

export function flowFailuresTable(): string {
  const rows = Object.values(FLOW_FAILURE_CODES).map((code) => `| \`${code}\` | ${cell(FLOW_FAILURE_DESCRIPTIONS[code])} |`)
  return ['| `error.code` | meaning |', '|---|---|', ...rows].join('\n')
}

function replaceBetween(text: string, name: string, table: string): string {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a < 0 || b < a) throw new Error(`README.md has no ${name}:start/end markers`)
  return `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`
}

export function readmeWithErrorTables(readme: string): string {
  return replaceBetween(replaceBetween(readme, 'errors', errorsTable()), 'flow-failures', flowFailuresTable())
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = fileURLToPath(new URL('../README.md', import.meta.url))
  if (process.argv.includes('--write')) writeFileSync(path, readmeWithErrorTables(readFileSync(path, 'utf8')))
  else console.log(`${errorsTable()}\n\n${flowFailuresTable()}`)
}
