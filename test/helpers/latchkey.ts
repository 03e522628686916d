/**
 * Starts a real Latchkey server (HTTP on 127.0.0.1, real storage) wired to a real oidc-provider
 * test IdP, and returns what a test needs: the base URL, an admin API key and both servers.
 */
import { tmpdir } from 'node:os'
import { Writable } from 'node:stream'
import { type Config, loadConfig } from '../../src/config.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey, type Latchkey } from '../../src/server.js'
import { startTestIdp, type TestIdp } from './oidc-server.js'
import { freePort } from './ports.js'

export interface Harness {
  latchkey: Latchkey
  idp: TestIdp
  baseURL: string
  apiKey: string
  /** Every log line Latchkey wrote, for secret-leak assertions. */
  logs: string[]
  close(): Promise<void>
}

export interface HarnessOptions {
  config?: Partial<Config>
  env?: Record<string, string>
  idp?: { accessTokenTtlSeconds?: number; rotateRefreshToken?: boolean; scopes?: string[] }
  /** Defaults to a fresh in-memory SQLite database. */
  databaseUrl?: string
  encryptionKeys?: string
  providerEntries?: (idp: TestIdp) => Array<Record<string, unknown>>
  fetch?: typeof fetch
  /** The outbound guard's resolver (a name that resolves where the test says). */
  resolve?: import('../../src/oauth/outbound-guard.js').ResolveHost
  /** A port from `freePort()` the test needs to know before the server starts. */
  port?: number
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const port = options.port ?? (await freePort())
  const publicUrl = `http://127.0.0.1:${port}`
  const idp = await startTestIdp({ redirectUri: `${publicUrl}/oauth/callback`, ...options.idp })
  const logs: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString())
      cb()
    },
  })
  const config = loadConfig({
    cwd: tmpdir(),
    env: {
      LATCHKEY_LOG_LEVEL: 'debug',
      LATCHKEY_VERIFICATION: 'browser',
      LATCHKEY_BACKGROUND_REFRESH: 'false',
      // The test IdP runs on this machine: the SSRF guard must be told.
      LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.0/8,::1',
      ...options.env,
    },
    overrides: {
      host: '127.0.0.1',
      port,
      publicUrl,
      databaseUrl: options.databaseUrl ?? ':memory:',
      encryptionKeys: options.encryptionKeys ?? `1:${Keyring.generateKey()}`,
      providerEntries: options.providerEntries ? options.providerEntries(idp) : [idp.entry()],
      allowInsecureLoopbackProviders: true,
      configFile: undefined,
      ...options.config,
    },
  })
  const latchkey = await createLatchkey(config, {
    logger: createLogger('debug', sink),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.resolve ? { resolve: options.resolve } : {}),
  })
  await latchkey.listen()
  const apiKey = latchkey.initialApiKey ?? (await latchkey.apiKeys.create({ name: 'test', role: 'admin' })).key
  return {
    latchkey,
    idp,
    baseURL: publicUrl,
    apiKey,
    logs,
    async close() {
      await latchkey.close()
      await idp.close()
    },
  }
}
