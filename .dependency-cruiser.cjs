/**
 * Layering and no-cycles, checked by `npm run check:layers` (part of `npm test`).
 * Layers, lowest first: config (and the shared leaves errors, log, metrics, paths) →
 * storage, crypto → oauth, providers → broker → http, cli. A layer imports only layers below it.
 * Type-only imports count: a type cycle is still a design cycle.
 */
const above = (...layers) => `^src/(${layers.join('|')})(/|\\.ts$)`

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, between files or (through them) between folders.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'broker-below-http-cli',
      severity: 'error',
      comment: 'The broker returns outcomes; http/ and cli/ present them.',
      from: { path: '^src/broker/' },
      to: { path: above('http', 'cli', 'server') },
    },
    {
      name: 'storage-crypto-at-the-bottom',
      severity: 'error',
      from: { path: '^src/(storage|crypto)/' },
      to: { path: above('oauth', 'providers', 'broker', 'http', 'cli', 'server') },
    },
    {
      name: 'oauth-providers-below-broker',
      severity: 'error',
      from: { path: '^src/(oauth|providers)/' },
      to: { path: above('broker', 'http', 'cli', 'server') },
    },
    {
      name: 'oauth-uses-provider-data-only',
      severity: 'error',
      comment:
        'oauth/ runs the protocol for a provider: it reads the provider types, never the entry compiler or registry (which use oauth/ themselves: a folder loop).',
      from: { path: '^src/oauth/' },
      to: { path: '^src/providers/', pathNot: '^src/providers/(define-provider|configured-provider)\\.ts$' },
    },
    {
      name: 'config-imports-nothing-above',
      severity: 'error',
      comment: 'config.ts and the shared leaves (errors, log, metrics, paths) import no layer of ours.',
      from: { path: '^src/(config|errors|log|metrics|paths)\\.ts$' },
      to: { path: above('storage', 'crypto', 'oauth', 'providers', 'broker', 'http', 'cli', 'server', 'demo') },
    },
    {
      name: 'sdk-self-contained',
      severity: 'error',
      comment: 'The SDK (src/client, moving to packages/client/src) is published alone: it imports nothing outside itself.',
      from: { path: '^(src/client|packages/client/src)/' },
      to: { pathNot: ['^(src/client|packages/client/src)/'], dependencyTypesNot: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
