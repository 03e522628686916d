/**
 * Scaffolds a built-in provider: `npm run new-provider -- <id> "<Display Name>"` writes
 * `src/providers/<id>.ts` from a template, regenerates `src/providers/catalog.ts` and the
 * README providers table. The template is full of `TODO` markers, and
 * `test/providers/catalog.test.ts` refuses a provider file that still has one, so a scaffold
 * cannot be committed unfinished: fill in the endpoints, the four decisions and the documented
 * token answer (`examples`) from the provider's own pages.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CATALOG_FILE, catalogSource } from './providers-catalog.js'
import { readmeWithTable } from './providers-table.js'

export function providerTemplate(id: string, displayName: string): string {
  if (!/^[a-z][a-z0-9]*$/.test(id))
    throw new Error(`provider id ${JSON.stringify(id)} must be lower-case letters and digits (it is also the export name)`)
  const name = JSON.stringify(displayName).slice(1, -1).replace(/'/g, "\\'")
  return `/**
 * @module providers/${id}
 * ${name}: TODO one line on what is authorized (user tokens, workspace installs, …).
 * @see TODO the provider's OAuth documentation page (authorization and token endpoints)
 */
import { type ProviderExamples, defineProvider } from './define-provider.js'

const authorizationEndpoint = 'https://TODO.example.com/oauth/authorize'
const tokenEndpoint = 'https://TODO.example.com/oauth/token'

export const ${id} = defineProvider({
  id: '${id}',
  displayName: '${name}',
  docsUrl: ['https://TODO.example.com/docs/oauth'],
  authorizationEndpoint,
  tokenEndpoint,
  // TODO the four decisions every provider file states, each with the sentence of the docs it rests on.
  scopeDelimiter: ' ',
  pkce: 'supported',
  tokenEndpointAuthMethod: 'client_secret_post',
  refreshTokens: 'static',
  returnsGrantedScopes: true,
})

/**
 * TODO the token answer as ${name}'s documentation prints it, every token replaced by a value
 * containing "fake"; add refreshResponse where the docs print the refresh answer. Use
 * \`basis: 'fields'\` and say so here when the docs print no example.
 */
export const examples: ProviderExamples = {
  source: 'https://TODO.example.com/docs/oauth',
  tokenResponse: {
    basis: 'printed',
    body: { access_token: 'fake-${id}-access-token', token_type: 'Bearer', expires_in: 3600, refresh_token: 'fake-${id}-refresh-token', scope: 'read' },
    expect: { accessToken: 'fake-${id}-access-token', refreshToken: 'fake-${id}-refresh-token', expiresIn: 3600, scope: ['read'] },
  },
}
`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [id, displayName] = process.argv.slice(2)
  if (!id || !displayName) {
    console.error('usage: npm run new-provider -- <id> "<Display Name>"')
    process.exit(2)
  }
  const file = new URL(`../src/providers/${id}.ts`, import.meta.url)
  if (existsSync(file)) throw new Error(`src/providers/${id}.ts already exists`)
  writeFileSync(file, providerTemplate(id, displayName))
  writeFileSync(CATALOG_FILE, catalogSource())
  const readme = fileURLToPath(new URL('../README.md', import.meta.url))
  writeFileSync(readme, readmeWithTable(readFileSync(readme, 'utf8')))
  console.log(`wrote src/providers/${id}.ts (catalog and README updated); replace every TODO, then run npm run docs:providers again`)
}
