/**
 * `src/providers/catalog.ts` is generated from the provider files (`scripts/providers-catalog.ts`);
 * this fails when a provider file was added, renamed or removed without regenerating it.
 */
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { CATALOG_COMMAND, CATALOG_FILE, catalogSource, providerIds } from '../../scripts/providers-catalog.js'
import { catalog } from '../../src/providers/catalog.js'

it(`src/providers/catalog.ts is what the script generates (run \`${CATALOG_COMMAND}\` after adding a provider file)`, () => {
  expect(readFileSync(CATALOG_FILE, 'utf8'), `src/providers/catalog.ts is out of date: run \`${CATALOG_COMMAND}\``).toBe(catalogSource())
})

it('finds the provider files and only them', () => {
  const ids = providerIds()
  expect(ids).toEqual(Object.keys(catalog).sort())
  for (const notAProvider of ['catalog', 'define-provider', 'provider-config', 'registry', 'demo']) expect(ids).not.toContain(notAProvider)
  expect(ids.length).toBeGreaterThanOrEqual(56)
})
