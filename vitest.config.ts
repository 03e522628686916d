import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const DEV_DEFAULTS =
  /^oidc-provider (NOTICE|WARNING): (a quick start development-only|quick start development-only|default \w+ function called|The following experimental features| {2}- |Breaking changes between experimental|You may disable this notice)/

export default defineConfig({
  // Tests run the SDK from source, so a change to it needs no rebuild; spawned server processes
  // (bin/latchkey.js) use the built package like an installed app would.
  resolve: { alias: { '@latchkey/client': fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real servers and databases; two workers match the 2-core machines.
    maxWorkers: 2,
    reporters: ['default'],
    // oidc-provider (the test OAuth server) warns about its development defaults (in-memory adapter,
    // quick-start keys and interactions, default helper functions, experimental features) on every
    // start: expected for a test IdP, so those lines are dropped. Its other warnings stay visible, among
    // them "Unsupported runtime" on Node 20 (it supports Node 22 LTS and later; README, Node.js versions).
    onConsoleLog: (log) => !DEV_DEFAULTS.test(log),
  },
})
