/**
 * Entry point of a Latchkey server child process for multi-process tests. Configuration comes
 * as JSON in LATCHKEY_TEST_CONFIG; prints `READY <url>` on stdout once listening.
 */
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey } from '../../src/server.js'

const input = JSON.parse(process.env['LATCHKEY_TEST_CONFIG'] ?? '{}') as {
  port: number
  publicUrl: string
  databaseUrl: string
  encryptionKeys: string
  providerEntries: Array<Record<string, unknown>>
  /** Optional: the outbound HTTP timeout (default 10 s). */
  providerTimeoutMs?: number
  /** Optional: more environment settings (webhook tuning, …). */
  env?: Record<string, string>
}
const config = loadConfig({
  cwd: '/tmp',
  env: {
    LATCHKEY_VERIFICATION: 'skip',
    LATCHKEY_BACKGROUND_REFRESH: 'false',
    LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.0/8,::1',
    ...input.env,
  },
  overrides: {
    host: '127.0.0.1',
    port: input.port,
    publicUrl: input.publicUrl,
    databaseUrl: input.databaseUrl,
    encryptionKeys: input.encryptionKeys,
    providerEntries: input.providerEntries,
    allowInsecureLoopbackProviders: true,
    configFile: undefined,
    rateLimit: { perMinute: 0 },
    ...(input.providerTimeoutMs !== undefined ? { providerTimeoutMs: input.providerTimeoutMs } : {}),
  },
})
const latchkey = await createLatchkey(config, { logger: createLogger('warn'), bootstrapApiKey: false })
const url = await latchkey.listen()
process.stdout.write(`READY ${url}\n`)
process.on('SIGTERM', () => {
  void latchkey.close().then(() => process.exit(0))
})
