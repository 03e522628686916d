/**
 * Refresh throughput: how many distinct refreshes per second one Latchkey process performs
 * against a provider that costs next to nothing (`lib/token-endpoint.ts`: a bare `node:http`
 * token endpoint in this process that rotates refresh tokens and accepts each exactly once), so
 * the figure is Latchkey's refresh path — authorize → cache miss → lock → re-read → provider
 * call through the outbound guard → seal → write → audit → response — not an authorization
 * server's. Goal: ≥ 500 refreshes/s, with exactly one provider call per connection (on SQLite; the
 * same run on PostgreSQL, when reachable, is printed beside it with its backends' CPU).
 *
 * Seeding: BENCH_REFRESH_THROUGHPUT_CONNECTIONS (default 4,000) connections copied from one made
 * through the real flow, each with its own refresh token issued by the endpoint and an access
 * token that expired a second ago. Then every connection is asked for twice at once, with
 * BENCH_CONNECTIONS (50) connections' pairs in flight; a discarded warm-up of 10 % comes first.
 * Latchkey runs in its own (pinned) process; its CPU per refresh is the figure that does not
 * depend on the load generator.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import pg from 'pg'
import { Pool } from 'undici'
import { Vault } from '../../src/broker/vault.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { openStore } from '../../src/storage/open-store.js'
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../test/helpers/postgres.js'
import { type ConnectedLatchkey, startConnectedLatchkey } from '../lib/latchkey.js'
import { latencyStats } from '../lib/latency.js'
import { backendCpuBetween, postgresBackendCpu } from '../lib/postgres-cpu.js'
import { formatProfile, summarizeProfile } from '../lib/profile.js'
import { startTokenEndpoint } from '../lib/token-endpoint.js'
import { defineScenario, type TargetResult } from '../lib/types.js'

const GOAL = 500
const PROVIDER = 'bench-local'

export async function seed(
  databaseUrl: string,
  encryptionKeys: string,
  userId: string,
  n: number,
  issue: () => string,
  prefix: string,
): Promise<string[]> {
  const store = openStore({ url: databaseUrl })
  try {
    const template = (await store.getConnection(userId, 'test-idp'))!
    const vault = new Vault(Keyring.parse(encryptionKeys))
    const now = Date.now()
    const users = Array.from({ length: n }, (_, i) => `${prefix}-${i}@example.com`)
    for (let i = 0; i < n; i += 500) {
      const rows = users.slice(i, i + 500).map((user) => {
        const id = randomUUID()
        return {
          ...template,
          id,
          user_id: user,
          provider_id: PROVIDER,
          access_token_enc: vault.seal({ table: 'connections', id, field: 'access_token' }, `expired-${id}`),
          refresh_token_enc: vault.seal({ table: 'connections', id, field: 'refresh_token' }, issue()),
          refresh_token_expires_at: null,
          expires_at: now - 1000,
          token_issued_at: now - 3_600_000,
          scopes: JSON.stringify(template.scopes),
          requested_scopes: template.requested_scopes === null ? null : JSON.stringify(template.requested_scopes),
          user_info: template.user_info === null ? null : JSON.stringify(template.user_info),
          generation: 0,
        }
      })
      await store.db.insertInto('connections').values(rows).execute()
    }
    return users
  } finally {
    await store.close()
  }
}

interface Runner {
  name: string
  database: 'sqlite' | 'postgres'
  lk: ConnectedLatchkey
  /** PostgreSQL runs: a connection to its database, to read its backends' CPU. */
  observer?: pg.Client
  dbCpuMicros: number
  pool: Pool
  warm: string[]
  users: string[]
  tokens: Map<string, Set<string>>
  failed: number
  latencies: number[]
  seconds: number
  cpuMicros: number
  refreshes: number
}

export default defineScenario({
  name: 'refresh-throughput',
  description: 'distinct refreshes per second against a near-free local token endpoint, two concurrent reads per due connection',
  async run(settings) {
    const n = Number(process.env['BENCH_REFRESH_THROUGHPUT_CONNECTIONS'] ?? 4000)
    const warm = Math.max(50, Math.round(n / 10))
    const baseline = process.env['BENCH_BASELINE_DIST']
    const rounds = Math.max(1, Math.min(settings.rounds, 6))
    const endpoint = await startTokenEndpoint()
    const runners: Runner[] = []
    const databases: TestDatabase[] = []
    // This build on SQLite; the baseline build beside it (BENCH_BASELINE_DIST), or else this build
    // on PostgreSQL when it is reachable (its backends' CPU counted separately).
    const plan: Array<[string, string | undefined, 'sqlite' | 'postgres']> = [['latchkey', undefined, 'sqlite']]
    if (baseline) plan.push(['baseline', baseline, 'sqlite'])
    else if (await postgresAvailable()) plan.push(['latchkey-postgres', undefined, 'postgres'])
    try {
      for (const [name, dist, database] of plan) {
        const db = database === 'postgres' ? await createTestDatabase() : undefined
        if (db) databases.push(db)
        const lk = await startConnectedLatchkey({
          providers: [endpoint.entry(PROVIDER)],
          ...(dist ? { dist } : {}),
          ...(db ? { databaseUrl: db.url } : {}),
        })
        let observer: pg.Client | undefined
        if (db) {
          observer = new pg.Client({ connectionString: db.url })
          await observer.connect()
        }
        const pool = new Pool(lk.url, { connections: settings.connections * 2, pipelining: 1 })
        settings.log(`  ${name}: seeding ${warm} + ${n} connections whose access tokens expired`)
        const warmUsers = await seed(lk.databaseUrl, lk.encryptionKeys, lk.userId, warm, endpoint.issue, 'warm')
        const users = await seed(lk.databaseUrl, lk.encryptionKeys, lk.userId, n, endpoint.issue, 'due')
        runners.push({
          name,
          database,
          lk,
          ...(observer ? { observer } : {}),
          dbCpuMicros: 0,
          pool,
          warm: warmUsers,
          users,
          tokens: new Map(),
          failed: 0,
          latencies: [],
          seconds: 0,
          cpuMicros: 0,
          refreshes: 0,
        })
      }
      const ask = async (r: Runner, user: string) => {
        const s = performance.now()
        const res = await r.pool.request({
          path: '/v1/auth/authorize',
          method: 'POST',
          headers: r.lk.authorizeRequest().headers,
          body: JSON.stringify({ auth_requirement: { provider_id: PROVIDER, provider_type: 'oauth2', oauth2: {} }, user_id: user }),
        })
        const body = (await res.body.json()) as { status?: string; context?: { token?: string } }
        r.latencies.push(performance.now() - s)
        if (res.statusCode !== 200 || body.status !== 'completed' || !body.context?.token) {
          if (r.failed++ === 0) settings.log(`  ${r.name}: first failure: HTTP ${res.statusCode} ${JSON.stringify(body)}`)
          return
        }
        const seen = r.tokens.get(user) ?? new Set<string>()
        seen.add(body.context.token)
        r.tokens.set(user, seen)
      }
      const drive = async (r: Runner, list: string[]) => {
        let next = 0
        await Promise.all(
          Array.from({ length: settings.connections }, async () => {
            while (next < list.length) {
              const user = list[next++]!
              await Promise.all([ask(r, user), ask(r, user)])
            }
          }),
        )
      }
      for (const r of runners) {
        settings.log(`  ${r.name}: warm-up, ${r.warm.length} connections`)
        await drive(r, r.warm)
        r.latencies.length = 0
        r.tokens.clear()
        r.failed = 0
      }
      settings.log(
        `  measuring: ${n} due connections per target (${2 * n} authorize calls) in ${rounds} alternating rounds, ${settings.connections} pairs in flight`,
      )
      for (let round = 0; round < rounds; round++) {
        for (const r of runners) {
          const slice = r.users.slice(Math.floor((round * n) / rounds), Math.floor(((round + 1) * n) / rounds))
          const profiling = settings.cpuProfile && round === 0
          if (profiling) await r.lk.server.startProfile()
          const before = endpoint.refreshes
          const dbBefore = r.observer && (await postgresBackendCpu(r.observer))
          const cpuBefore = await r.lk.server.cpuUsage()
          const t0 = performance.now()
          await drive(r, slice)
          r.seconds += (performance.now() - t0) / 1000
          const cpuAfter = await r.lk.server.cpuUsage()
          r.cpuMicros += cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system
          if (r.observer && dbBefore) r.dbCpuMicros += backendCpuBetween(dbBefore, await postgresBackendCpu(r.observer))
          r.refreshes += endpoint.refreshes - before
          if (profiling) {
            const file = join(settings.resultsDir, 'profiles', `refresh-throughput-${r.name}.cpuprofile`)
            await r.lk.server.stopProfile(file)
            settings.log(formatProfile(`refresh-throughput ${r.name}`, summarizeProfile(file)))
          }
          settings.log(`    round ${round + 1} ${r.name}: ${(slice.length / ((performance.now() - t0) / 1000)).toFixed(0)} refreshes/s`)
        }
      }
      const targets: TargetResult[] = []
      const goals = []
      const notes = []
      for (const r of runners) {
        const oneTokenEach = r.users.every((u) => r.tokens.get(u)?.size === 1)
        const exactlyOnce = r.refreshes === n && endpoint.reused === 0 && r.failed === 0 && oneTokenEach
        const rate = n / r.seconds
        targets.push({
          target: `${r.name} refresh (${r.database})`,
          description: `${n} due connections, each asked for twice at once`,
          connections: settings.connections * 2,
          seconds: r.seconds,
          requestsPerSecond: rate,
          totalRequests: 2 * n,
          latencyMs: latencyStats(r.latencies),
          cpuMicrosPerRequest: r.cpuMicros / n,
          serverCpuPercent: r.cpuMicros / 1e4 / r.seconds,
          non2xx: r.failed,
          errors: 0,
          timeouts: 0,
          mismatches: exactlyOnce ? 0 : 1,
        })
        notes.push(
          // Per saturated core: what this process would do with a core of its own (refreshes/s ÷ its CPU share).
          `${r.name}: ${rate.toFixed(0)} refreshes/s at ${(r.cpuMicros / 1e4 / r.seconds).toFixed(0)} % of a core = ${(1e6 / (r.cpuMicros / n)).toFixed(0)} refreshes/s per saturated core, ${(r.cpuMicros / n).toFixed(0)} µs CPU per refresh; ${r.refreshes} provider refresh calls for ${n} connections (${2 * n} authorize calls), ${r.failed} failed calls; one token per connection: ${oneTokenEach ? 'yes' : 'NO'}`,
        )
        if (r.database === 'postgres') {
          goals.push({
            description: 'postgres: exactly one provider call per connection, one token per connection',
            value: exactlyOnce ? 1 : 0,
            threshold: 1,
            met: exactlyOnce,
          })
          notes.push(
            `${r.name}: PostgreSQL's backends for its database used ${(r.dbCpuMicros / n).toFixed(0)} µs CPU per refresh (PostgreSQL is not pinned)`,
          )
        }
        if (r.name === 'latchkey') {
          goals.push(
            { description: `≥ ${GOAL} refreshes/s (value: share of the goal)`, value: rate / GOAL, threshold: 1, met: rate >= GOAL },
            {
              description: 'exactly one provider call per connection, one token per connection',
              value: exactlyOnce ? 1 : 0,
              threshold: 1,
              met: exactlyOnce,
            },
          )
        }
      }
      notes.push(`refresh tokens presented twice at the endpoint (any target): ${endpoint.reused}`)
      notes.push('req/s column = refreshes per second; cpu µs/req = Latchkey CPU per refresh (two authorize calls)')
      const ratios: Record<string, number> = {}
      if (runners[1]?.name === 'baseline') {
        ratios['latchkey/baseline refreshes per second'] = runners[1]!.seconds / runners[0]!.seconds
        ratios['baseline/latchkey cpu per refresh'] = runners[1]!.cpuMicros / runners[0]!.cpuMicros
      }
      return { scenario: 'refresh-throughput', description: this.description, targets, ratios, goals, notes }
    } finally {
      for (const r of runners) {
        await r.observer?.end()
        await r.pool.close()
        await r.lk.stop()
      }
      for (const db of databases) await db.drop()
      await endpoint.close()
    }
  },
})
