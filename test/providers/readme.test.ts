import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { readmeWithTable } from '../../scripts/providers-table.js'
import { catalog } from '../../src/providers/catalog.js'

it('README lists every built-in provider (run `npm run docs:providers` after changing the catalog)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  expect(readmeWithTable(readme)).toBe(readme)
  for (const id of Object.keys(catalog)) expect(readme).toContain(`| \`${id}\` |`)
})
