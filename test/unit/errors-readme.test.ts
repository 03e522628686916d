/**
 * The README's error tables are generated from the catalogs (`scripts/errors-table.ts`); this
 * fails when someone edits a catalog without regenerating them, or edits the tables by hand.
 */
import { readFileSync } from 'node:fs'
import { FLOW_FAILURE_CODES } from '@latchkey/client'
import { expect, it } from 'vitest'
import { readmeWithErrorTables } from '../../scripts/errors-table.js'
import { ERROR_CODES } from '../../src/errors.js'

it('README lists every error code and flow failure reason (run `npm run docs:errors` after changing a catalog)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  expect(readmeWithErrorTables(readme), 'README.md is out of date: run `npm run docs:errors`').toBe(readme)
  for (const code of Object.keys(ERROR_CODES)) expect(readme).toContain(`| \`${code}\` |`)
  for (const code of Object.values(FLOW_FAILURE_CODES)) expect(readme).toContain(`| \`${code}\` |`)
})

it('keeps the flow failure catalog free of imports, so the SDK can own it', () => {
  const source = readFileSync(new URL('../../packages/client/src/failure-codes.ts', import.meta.url), 'utf8')
  expect(source).not.toMatch(/^\s*import\b/m)
})
