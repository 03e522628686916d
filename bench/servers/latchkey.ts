/**
 * Latchkey started the way the CLI starts it (`createLatchkey`), in its own process: a SQLite
 * file, warn-level logging, background refresh off, the test IdP as its only provider.
 */
import { tmpdir } from 'node:os'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey } from '../../src/server.js'
import { childArgs, serveChild } from '../lib/child.js'

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

serveChild<LatchkeyInfo>(async () => {
  const args = childArgs<LatchkeyArgs>()
  const publicUrl = `http://127.0.0.1:${args.port}`
  const config = loadConfig({
    cwd: tmpdir(),
    env: {
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_BACKGROUND_REFRESH: 'false',
      LATCHKEY_VERIFICATION: 'browser',
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
  return { info: { url: publicUrl, adminKey, runtimeKey }, close: () => latchkey.close() }
})
