/**
 * Latchkey started the way the CLI starts it (`createLatchkey`), in its own process: a SQLite
 * file, warn-level logging, background refresh off, the test IdP as its only provider. It runs
 * the compiled `dist/` (what `npm start` runs; `npm run bench` builds it first), falling back to
 * the TypeScript sources when there is no build.
 */
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { childArgs, serveChild } from '../lib/child.js'

const built = new URL('../../dist/server.js', import.meta.url)
// BENCH_LATCHKEY_DIST: another build (e.g. the previous release's dist/) to compare side by side.
const other = process.env['BENCH_LATCHKEY_DIST']
const from = other ? `${pathToFileURL(other).href.replace(/\/?$/, '/')}` : existsSync(built) ? '../../dist/' : '../../src/'
const { loadConfig } = (await import(`${from}config.js`)) as typeof import('../../src/config.js')
const { createLogger } = (await import(`${from}log.js`)) as typeof import('../../src/log.js')
const { createLatchkey } = (await import(`${from}server.js`)) as typeof import('../../src/server.js')

export interface LatchkeyArgs {
  port: number
  databaseFile: string
  encryptionKeys: string
  providerEntries: Array<Record<string, unknown>>
  /** Extra LATCHKEY_* settings (a scenario may tune refresh margins, rate limits, …). */
  env?: Record<string, string>
}

export interface LatchkeyInfo {
  url: string
  adminKey: string
  runtimeKey: string
}

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

serveChild<LatchkeyInfo>(async () => {
  const args = childArgs<LatchkeyArgs>()
  const publicUrl = `http://127.0.0.1:${args.port}`
  const config = loadConfig({
    cwd: tmpdir(),
    env: {
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_BACKGROUND_REFRESH: 'false',
      LATCHKEY_VERIFICATION: 'browser',
      // The IdP runs on this machine: the SSRF guard must be told.
      LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.0/8,::1',
      ...args.env,
    },
    overrides: {
      host: '127.0.0.1',
      port: args.port,
      publicUrl,
      databaseUrl: args.databaseFile,
      encryptionKeys: args.encryptionKeys,
      providerEntries: args.providerEntries,
      allowInsecureLoopbackProviders: true,
      configFile: undefined,
    },
  })
  const latchkey = await createLatchkey(config, { logger: createLogger(config.logLevel) })
  await latchkey.listen()
  const adminKey = latchkey.initialApiKey ?? (await latchkey.apiKeys.create({ name: 'bench admin', role: 'admin' })).key
  const runtimeKey = (await latchkey.apiKeys.create({ name: 'bench agent', role: 'runtime' })).key
  const cache = latchkey.ctx.connectionCache
  return {
    info: { url: publicUrl, adminKey, runtimeKey },
    close: () => latchkey.close(),
    stats: () => {
      // After a full collection, so heap figures compare live objects only (long-polls scenario).
      gc()
      const m = process.memoryUsage()
      return {
        connectionCacheMisses: cache.misses,
        connectionCacheSize: cache.size,
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
      }
    },
  }
})
