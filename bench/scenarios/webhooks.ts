/**
 * Webhooks: delivery throughput and latency from the outbox, and what an endpoint costs a refresh
 * storm. In this process: Latchkey (SQLite file; PostgreSQL too when reachable), the test IdP and
 * a plain HTTP receiver on loopback answering 204.
 *
 * 1. Throughput: BENCH_WEBHOOK_EVENTS (default 10,000) events written to the outbox at once, in
 *    transactions of 100 (as state changes write them) and announced the way a commit is;
 *    measures deliveries/s (a burst's latency is its backlog, so it is shown, not a goal).
 * 2. Latency: events produced at BENCH_WEBHOOK_RATE per second (default 500, a rate the receiver
 *    keeps up with) for BENCH_WEBHOOK_PACED_SECONDS (default 10), 10 per commit; the time from the
 *    write (the event's timestamp) to its arrival, p50 / p99. This is what the p99 goal means.
 * 3. Refresh storm: BENCH_REFRESH_CONNECTIONS (default 300) connections expired and refreshed, 50
 *    at a time, in BENCH_WEBHOOK_STORM_ROUNDS (default 2) pairs of alternating rounds: the endpoint
 *    disabled, then enabled (every refresh then also has its `connection.refreshed` event
 *    delivered); the ratio of refreshes/s over all rounds.
 * Goals: ≥ 1,000 deliveries/s, p99 ≤ 1 s, refresh throughput with an endpoint within 10 %.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Latchkey } from '@latchkey/client'
import { outboxEvent } from '../../src/broker/webhook-events.js'
import { loadConfig } from '../../src/config.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { createLogger } from '../../src/log.js'
import { createLatchkey } from '../../src/server.js'
import { writeOutbox } from '../../src/storage/webhook-store.js'
import { TestBrowser } from '../../test/helpers/browser.js'
import { startTestIdp } from '../../test/helpers/oidc-server.js'
import { freePort } from '../../test/helpers/ports.js'
import { createTestDatabase, postgresAvailable } from '../../test/helpers/postgres.js'
import { latencyStats } from '../lib/latency.js'
import { defineScenario, type GoalResult, type TargetResult } from '../lib/types.js'

function target(name: string, description: string, perSecond: number, total: number, seconds: number, lat: number[]): TargetResult {
  return {
    target: name,
    description,
    connections: 0,
    seconds,
    requestsPerSecond: perSecond,
    totalRequests: total,
    latencyMs: latencyStats(lat),
    cpuMicrosPerRequest: NaN,
    serverCpuPercent: NaN,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    mismatches: 0,
  }
}

async function run(database: 'sqlite' | 'postgres', events: number, n: number, log: (m: string) => void) {
  const stormRounds = Number(process.env['BENCH_WEBHOOK_STORM_ROUNDS'] ?? 2)
  const rate = Number(process.env['BENCH_WEBHOOK_RATE'] ?? 500)
  const pacedSeconds = Number(process.env['BENCH_WEBHOOK_PACED_SECONDS'] ?? 10)
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-webhooks-bench-'))
  const pg = database === 'postgres' ? await createTestDatabase() : undefined
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const idp = await startTestIdp({ redirectUri: `${publicUrl}/oauth/callback` })
  const arrivals: Array<{ type: string; lagMs: number; at: number }> = []
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { type: string; timestamp: string }
      const now = Date.now()
      arrivals.push({ type: body.type, lagMs: now - Date.parse(body.timestamp), at: now })
      res.writeHead(204).end()
    })
  })
  const receiverPort = await freePort()
  await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve))
  const config = loadConfig({
    cwd: dir,
    env: {
      LATCHKEY_BACKGROUND_REFRESH: 'false',
      LATCHKEY_VERIFICATION: 'browser',
      LATCHKEY_RATE_LIMIT_PER_MINUTE: '0',
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

    // Refresh storm without an endpoint, then with one (same connections).
    log(`  ${database}: connecting ${n} users`)
    const users = Array.from({ length: n }, (_, i) => `wh-${i}`)
    for (let i = 0; i < n; i += 20) {
      await Promise.all(
        users.slice(i, i + 20).map(async (u) => {
          const started = await client.auth.start(u, 'test-idp', { scopes: ['openid'] })
          await new TestBrowser().authorize(started.url!, { login: u })
          await client.auth.waitForCompletion(started, { timeoutMs: 30_000 })
        }),
      )
    }
    const storm = async () => {
      for (const u of users) {
        const c = (await lk.store.getConnection(u, 'test-idp'))!
        await lk.store.updateConnection(c.id, { expires_at: Date.now() - 1000, token_issued_at: Date.now() - 3_600_000 })
      }
      // 50 at a time: the in-process test IdP drops connections beyond that on this machine.
      const t0 = performance.now()
      for (let i = 0; i < n; i += 50)
        await Promise.all(users.slice(i, i + 50).map((u) => client.auth.start(u, 'test-idp', { scopes: ['openid'] })))
      return (performance.now() - t0) / 1000
    }
    // Alternating rounds so a busy spell of a shared machine hits both alike; "without" is the
    // endpoint disabled (events are still written and dispatched, nothing sent).
    const endpoint = await lk.webhooks.create({ url: `http://127.0.0.1:${receiverPort}/hooks`, enabled: false })
    const time = { without: 0, with: 0 }
    const rounds: string[] = []
    for (let r = 0; r < stormRounds * 2; r++) {
      // without, with, with, without, …: a machine speeding up or slowing down over the run (JIT
      // warm-up, a neighbour's load) favours neither side.
      const withOne = r % 4 === 1 || r % 4 === 2
      await lk.webhooks.update(endpoint.id, { enabled: withOne })
      const before = arrivals.length
      const seconds = await storm()
      time[withOne ? 'with' : 'without'] += seconds
      rounds.push(`${withOne ? 'with' : 'without'} ${(n / seconds).toFixed(0)}/s`)
      // The round's deliveries finish before the next round starts (their cost is this round's).
      if (withOne) await waitFor(() => arrivals.length - before >= n, 60_000)
    }
    await lk.webhooks.update(endpoint.id, { enabled: true })
    const without = (n * stormRounds) / time.without
    const withEndpoint = (n * stormRounds) / time.with
    log(`  ${database}: refreshes/s without an endpoint ${without.toFixed(0)}, with one ${withEndpoint.toFixed(0)} (${rounds.join(', ')})`)

    // Delivery throughput: N events through the outbox.
    arrivals.length = 0
    log(`  ${database}: ${events} events through the outbox`)
    const t0 = performance.now()
    for (let i = 0; i < events; i += 100) {
      const batch = Array.from({ length: Math.min(100, events - i) }, (_, k) =>
        outboxEvent('connection.refreshed', `con_bench_${(i + k) % 1000}`, { connection_id: `con_bench_${(i + k) % 1000}` }),
      )
      await lk.store.db.transaction().execute((tx) => writeOutbox(tx, batch))
      await lk.store.publish({ channel: 'connection', id: 'bench' })
    }
    await waitFor(() => arrivals.length >= events, 300_000)
    const seconds = (performance.now() - t0) / 1000
    const burst = arrivals.map((a) => a.lagMs)

    // Latency: a steady rate the receiver keeps up with, 10 events per commit.
    arrivals.length = 0
    const paced = Math.round(rate * pacedSeconds)
    log(`  ${database}: ${paced} events at ${rate}/s`)
    const p0 = performance.now()
    for (let i = 0; i < paced; i += 10) {
      const dueAt = p0 + (i / rate) * 1000
      const wait = dueAt - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      const batch = Array.from({ length: Math.min(10, paced - i) }, (_, k) =>
        outboxEvent('connection.refreshed', `con_paced_${(i + k) % 1000}`, { connection_id: `con_paced_${(i + k) % 1000}` }),
      )
      await lk.store.db.transaction().execute((tx) => writeOutbox(tx, batch))
      await lk.store.publish({ channel: 'connection', id: 'bench' })
    }
    await waitFor(() => arrivals.length >= paced, 120_000)
    const pacedElapsed = (performance.now() - p0) / 1000
    return {
      delivery: target(
        `deliveries-${database}`,
        `${events} events written at once and delivered (latency: write → arrival, includes the backlog)`,
        events / seconds,
        events,
        seconds,
        burst,
      ),
      latency: target(
        `latency-${database}`,
        `${paced} events at ${rate}/s (latency: write → arrival)`,
        paced / pacedElapsed,
        paced,
        pacedElapsed,
        arrivals.map((a) => a.lagMs),
      ),
      without,
      withEndpoint,
      rounds,
    }
  } finally {
    await lk.close()
    await new Promise((resolve) => receiver.close(resolve))
    await idp.close()
    await pg?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function waitFor(ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('webhooks bench: deliveries did not all arrive in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export default defineScenario({
  name: 'webhooks',
  description: 'Webhook deliveries/s and write→arrival latency from the outbox; refresh storm with and without an endpoint',
  async run(settings) {
    const events = Number(process.env['BENCH_WEBHOOK_EVENTS'] ?? 10_000)
    const n = Number(process.env['BENCH_REFRESH_CONNECTIONS'] ?? 300)
    const runs = [{ db: 'sqlite', ...(await run('sqlite', events, n, settings.log)) }]
    if (await postgresAvailable()) runs.push({ db: 'postgres', ...(await run('postgres', events, n, settings.log)) })
    const goals: GoalResult[] = runs.flatMap((r) => [
      {
        description: `${r.db}: deliveries/s ≥ 1,000`,
        value: r.delivery.requestsPerSecond,
        threshold: 1000,
        met: r.delivery.requestsPerSecond >= 1000,
        unit: 'deliveries/s',
      },
      {
        description: `${r.db}: p99 write → arrival ≤ 1,000 ms at a rate the receiver keeps up with`,
        value: r.latency.latencyMs.p99,
        threshold: 1000,
        met: r.latency.latencyMs.p99 <= 1000,
        unit: 'ms',
      },
      {
        description: `${r.db}: refreshes/s with an endpoint ≥ 90 % of without`,
        value: r.withEndpoint / r.without,
        threshold: 0.9,
        met: r.withEndpoint / r.without >= 0.9,
      },
    ])
    return {
      scenario: 'webhooks',
      description: this.description,
      targets: runs.flatMap((r) => [r.delivery, r.latency]),
      ratios: Object.fromEntries(runs.map((r) => [`refresh-with-endpoint/without (${r.db})`, r.withEndpoint / r.without])),
      goals,
      notes: runs.map(
        (r) =>
          `${r.db}: refreshes/s without an endpoint ${r.without.toFixed(0)}, with one ${r.withEndpoint.toFixed(0)} (rounds: ${r.rounds.join(', ')})`,
      ),
    }
  },
})
