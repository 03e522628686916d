import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

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
    // oidc-provider (the test OAuth server) warns about its development defaults on every start.
    onConsoleLog: (log) => !/^oidc-provider (WARNING|NOTICE)/.test(log),
  },
})
