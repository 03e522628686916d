/**
 * Refresh storm: N distinct connections whose access tokens have all expired are asked for at
 * once (two concurrent `authorize` calls per connection), against a real OAuth server on
 * loopback. Prints refreshes per second and checks that each connection was refreshed exactly
 * once (the provider's count of refresh grants, and each connection's audit trail). Runs on
 * SQLite, and on PostgreSQL when it is reachable (LATCHKEY_TEST_POSTGRES_URL or 127.0.0.1:5432).
 *
 * Latchkey and the OAuth server share this process here: the figure is end-to-end capacity on
 * one machine, provider work included. BENCH_REFRESH_CONNECTIONS sets N (default 300).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Latchkey } from '@latchkey/client'
import { loadConfig } from '../../src/config.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey } from '../../src/server.js'
import { TestBrowser } from '../../test/helpers/browser.js'
import { startTestIdp } from '../../test/helpers/oidc-server.js'
import { freePort } from '../../test/helpers/ports.js'
import { createTestDatabase, postgresAvailable } from '../../test/helpers/postgres.js'
import { latencyStats } from '../lib/latency.js'
import { defineScenario, type TargetResult } from '../lib/types.js'

async function storm(
  database: 'sqlite' | 'postgres',
  n: number,
  log: (m: string) => void,
): Promise<{ target: TargetResult; exactlyOnce: boolean; note: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-storm-'))
  const pg = database === 'postgres' ? await createTestDatabase() : undefined
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const idp = await startTestIdp({ redirectUri: `${publicUrl}/oauth/callback` })
  const config = loadConfig({
    cwd: dir,
    env: {
      LATCHKEY_BACKGROUND_REFRESH: 'false',
      LATCHKEY_VERIFICATION: 'browser',
      LATCHKEY_RATE_LIMIT_PER_MINUTE: '0',
      // The OAuth server listens on loopback, which the outbound guard refuses unless allowed.
      LATCHKEY_OUTBOUND_ALLOW_PRIVATE: '127.0.0.0/8',
    },
    overrides: {
      host: '127.0.0.1',
      port,
      publicUrl,
      databaseUrl: pg?.url ?? join(dir, 'latchkey.db'),
      encryptionKeys: Keyring.generateKey(),
      providerEntries: [idp.entry()],
      allowInsecureLoopbackProviders: true,
      configFile: undefined,
    },
  })
  const lk = await createLatchkey(config, { logger: createLogger('warn') })
  try {
    await lk.listen()
    const client = new Latchkey({ apiKey: lk.initialApiKey!, baseURL: publicUrl, maxRetries: 0 })
    log(`  ${database}: connecting ${n} users through the OAuth server`)
    const users = Array.from({ length: n }, (_, i) => `storm-${i}`)
    for (let i = 0; i < n; i += 20) {
      await Promise.all(
        users.slice(i, i + 20).map(async (u) => {
          const started = await client.auth.start(u, 'test-idp', { scopes: ['openid'] })
          await new TestBrowser().authorize(started.url!, { login: u })
          await client.auth.waitForCompletion(started, { timeoutMs: 30_000 })
        }),
      )
    }
    const ids: string[] = []
    for (const u of users) {
      const c = (await lk.store.getConnection(u, 'test-idp'))!
      ids.push(c.id)
      await lk.store.updateConnection(c.id, { expires_at: Date.now() - 1000 })
    }
    await lk.ctx.audit.flush()
    const before = idp.tokenCalls.get('refresh_token') ?? 0
    log(`  ${database}: ${n} expired connections, ${2 * n} concurrent authorize calls`)
    const latencies: number[] = []
    const t0 = performance.now()
    const results = await Promise.all(
      users.flatMap((u) =>
        [0, 1].map(async () => {
          const s = performance.now()
          const r = await client.auth.start(u, 'test-idp', { scopes: ['openid'] })
          latencies.push(performance.now() - s)
          return r
        }),
      ),
    )
    const seconds = (performance.now() - t0) / 1000
    const refreshes = (idp.tokenCalls.get('refresh_token') ?? 0) - before
    await lk.ctx.audit.flush()
    const audit = await lk.store.listAudit({ action: 'connection.refreshed' }, 100_000, 0)
    const perConnection = new Map<string, number>()
    for (const e of audit.items) perConnection.set(e.connection_id!, (perConnection.get(e.connection_id!) ?? 0) + 1)
    const completed = results.filter((r) => r.status === 'completed').length
    const exactlyOnce = refreshes === n && ids.every((id) => perConnection.get(id) === 1) && completed === 2 * n
    return {
      exactlyOnce,
      note: `${database}: ${refreshes} provider refresh calls for ${n} connections (${2 * n} requests); ${completed} completed; every connection refreshed exactly once: ${exactlyOnce ? 'yes' : 'NO'}`,
      target: {
        target: `refresh-${database}`,
        description: `${n} expired connections refreshed under ${2 * n} concurrent authorize calls`,
        connections: 2 * n,
        seconds,
        requestsPerSecond: n / seconds,
        totalRequests: 2 * n,
        latencyMs: latencyStats(latencies),
        cpuMicrosPerRequest: NaN,
        serverCpuPercent: NaN,
        non2xx: 2 * n - completed,
        errors: 0,
        timeouts: 0,
        mismatches: exactlyOnce ? 0 : 1,
      },
    }
  } finally {
    await lk.close()
    await idp.close()
    await pg?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

export default defineScenario({
  name: 'refresh-storm',
  description: 'N expired connections refreshed at once: refreshes/s (shown as req/s) and exactly-once check',
  async run(settings) {
    const n = Number(process.env['BENCH_REFRESH_CONNECTIONS'] ?? 300)
    const runs = [await storm('sqlite', n, settings.log)]
    if (await postgresAvailable()) runs.push(await storm('postgres', n, settings.log))
    else settings.log('  PostgreSQL not reachable: SQLite only')
    return {
      scenario: 'refresh-storm',
      description: this.description,
      targets: runs.map((r) => r.target),
      ratios: {},
      goals: runs.map((r) => ({
        description: `${r.target.target}: every connection refreshed exactly once`,
        value: r.exactlyOnce ? 1 : 0,
        threshold: 1,
        met: r.exactlyOnce,
      })),
      notes: [
        ...runs.map((r) => r.note),
        'req/s column = refreshes per second (end to end: authorize → lock → provider refresh → write → response); latency is per authorize call',
      ],
    }
  },
})
