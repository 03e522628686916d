/**
 * The scaffold (`scripts/new-provider.ts`) writes a provider file that loads, has the shape the
 * catalog tests check, and is marked unfinished, so catalog.test.ts refuses it until every TODO
 * is replaced. The file is written to a temporary folder, never into src/providers.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { providerTemplate } from '../../scripts/new-provider.js'
import { parseTokenResponse } from '../../src/oauth/token-response.js'
import type { ProviderDefinition, ProviderExamples } from '../../src/providers/define-provider.js'

const dir = mkdtempSync(join(tmpdir(), 'latchkey-new-provider-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it('scaffolds a provider file that loads, parses its own example, and is marked TODO', async () => {
  copyFileSync(new URL('../../src/providers/define-provider.ts', import.meta.url), join(dir, 'define-provider.ts'))
  const source = providerTemplate('acme', "Acme's Cloud")
  writeFileSync(join(dir, 'acme.ts'), source)
  const mod = (await import(pathToFileURL(join(dir, 'acme.ts')).href)) as { acme: ProviderDefinition; examples: ProviderExamples }
  expect(mod.acme).toMatchObject({ id: 'acme', displayName: "Acme's Cloud" })
  const tokens = await parseTokenResponse(
    new Response(JSON.stringify(mod.examples.tokenResponse.body), { headers: { 'content-type': 'application/json' } }),
    mod.acme.tokenResponse,
  )
  expect(tokens.accessToken).toBe(mod.examples.tokenResponse.expect.accessToken)
  expect(source).toMatch(/^export const acme = defineProvider\(/m)
  expect(source).toContain('TODO')
})

it('refuses an id that cannot be an export name', () => {
  expect(() => providerTemplate('acme-cloud', 'Acme')).toThrow(/lower-case letters and digits/)
})
