/**
 * Cold reads: `POST /v1/auth/authorize` for BENCH_COLD_USERS (100,000) connected users read
 * uniformly at random, so the connection cache (10,000 entries, 2 s) rarely holds the one
 * asked for and nearly every call reads the database and decrypts a token. Against the bare
 * `node:http` route with the same requests, in alternating rounds. On SQLite, and on PostgreSQL
 * when reachable, where PostgreSQL's own CPU (its backends serving this database) is counted too.
 *
 * Seeding: one user is connected through the real browser flow; the others are copies of that
 * connection (same provider, scopes and user info, each its own id), their tokens sealed with the
 * server's keyring bound to their own row id exactly as a grant stores them, inserted in batches
 * through the store's Kysely instance (100,000 grants through the flow would take minutes).
 * Goals, by CPU per request: SQLite ≥ 40 % of bare, PostgreSQL ≥ 25 % (database CPU included).
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { Vault } from '../../src/broker/vault.js'
import { Keyring } from '../../src/crypto/keyring.js'
import { openStore } from '../../src/storage/open-store.js'
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../test/helpers/postgres.js'
import { startBare } from '../lib/bare.js'
import type { ChildServer } from '../lib/child.js'
import { startConnectedLatchkey } from '../lib/latchkey.js'
import { combine, measureRounds } from '../lib/load.js'
import { backendCpuBetween, postgresBackendCpu } from '../lib/postgres-cpu.js'
import { type BenchSettings, defineScenario, type GoalResult, type TargetResult } from '../lib/types.js'

const GOALS = { sqlite: 0.4, postgres: 0.25 }

async function seed(databaseUrl: string, encryptionKeys: string, userId: string, providerId: string, n: number): Promise<string[]> {
  const store = openStore({ url: databaseUrl })
  try {
    const template = (await store.getConnection(userId, providerId))!
    const vault = new Vault(Keyring.parse(encryptionKeys))
    const token = vault.open({ table: 'connections', id: template.id, field: 'access_token' }, template.access_token_enc)
    const refresh =
      template.refresh_token_enc &&
      vault.open({ table: 'connections', id: template.id, field: 'refresh_token' }, template.refresh_token_enc)
    const now = Date.now()
    const users = Array.from({ length: n }, (_, i) => `cold-${i}@example.com`)
    for (let i = 0; i < n; i += 500) {
      const rows = users.slice(i, i + 500).map((user) => {
        const id = randomUUID()
        return {
          ...template,
          id,
          user_id: user,
          access_token_enc: vault.seal({ table: 'connections', id, field: 'access_token' }, token),
          refresh_token_enc: refresh ? vault.seal({ table: 'connections', id, field: 'refresh_token' }, refresh) : null,
          // A day left: no read is due for a refresh during the run.
          expires_at: now + 86_400_000,
          token_issued_at: now,
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

async function run(
  database: 'sqlite' | 'postgres',
  settings: BenchSettings,
): Promise<{ targets: TargetResult[]; ratio: number; goal: GoalResult; notes: string[] }> {
  const n = Number(process.env['BENCH_COLD_USERS'] ?? 100_000)
  const testDb: TestDatabase | undefined = database === 'postgres' ? await createTestDatabase() : undefined
  const lk = await startConnectedLatchkey(testDb ? { databaseUrl: testDb.url } : {})
  let bare: ChildServer<unknown> | undefined
  let observer: pg.Client | undefined
  try {
    settings.log(`  ${database}: seeding ${n.toLocaleString('en-US')} connected users`)
    const users = await seed(lk.databaseUrl, lk.encryptionKeys, lk.userId, lk.providerId, n)
    bare = (await startBare()) as ChildServer<unknown>
    const request = lk.authorizeRequest()
    const template = JSON.parse(request.body) as { user_id: string }
    const bodies = users.map((user_id) => JSON.stringify({ ...template, user_id }))
    const nextBody = () => bodies[Math.floor(Math.random() * bodies.length)]!
    const path = new URL(request.url).pathname
    if (testDb) {
      observer = new pg.Client({ connectionString: testDb.url })
      await observer.connect()
    }
    const statsBefore = await lk.server.stats()
    const cpuBefore = observer && (await postgresBackendCpu(observer))
    const [bareRounds, lkRounds] = await measureRounds(
      [
        {
          name: `bare (${database} run)`,
          description: 'node:http: reads the body, answers a small JSON',
          ...request,
          url: `${(bare.info as { url: string }).url}${path}`,
          nextBody,
          server: bare,
        },
        {
          name: `latchkey cold ${database}`,
          description: `authorize for one of ${n.toLocaleString('en-US')} users at random → completed + token`,
          ...request,
          nextBody,
          verifyBody: (body) => body.includes('"status":"completed"'),
          server: lk.server as ChildServer<unknown>,
        },
      ],
      settings,
      settings.rounds,
    )
    const cpuAfter = observer && (await postgresBackendCpu(observer))
    const statsAfter = await lk.server.stats()
    const b = combine(bareRounds!)
    const l = combine(lkRounds!)
    // Warm-up requests count as misses too; measured requests are what the ratio is over.
    const lkRequests = l.totalRequests
    const misses = (statsAfter['connectionCacheMisses'] ?? 0) - (statsBefore['connectionCacheMisses'] ?? 0)
    const notes = [
      `${database}: ${lkRequests.toLocaleString('en-US')} measured Latchkey requests (plus warm-up); connection-cache misses over the whole run ${misses.toLocaleString('en-US')}, cache size at the end ${statsAfter['connectionCacheSize']}`,
    ]
    let dbCpuPerRequest = 0
    if (cpuBefore && cpuAfter) {
      const total = backendCpuBetween(cpuBefore, cpuAfter)
      // The backends also served the warm-up of each round's Latchkey target; spread it over
      // every Latchkey request sent (warm-up included) to stay honest about per-request cost.
      const sent = lkRequests + l.requestsPerSecond * settings.warmupSeconds
      dbCpuPerRequest = total / sent
      notes.push(
        `postgres: PostgreSQL backends of this database used ${(total / 1e6).toFixed(1)} s CPU ≈ ${dbCpuPerRequest.toFixed(0)} µs per Latchkey request (pool + listener + publisher backends; PostgreSQL is not pinned)`,
      )
    }
    const hitRate = Math.max(0, 1 - misses / (lkRequests + l.requestsPerSecond * settings.warmupSeconds))
    notes.push(`${database}: connection-cache hit rate ≈ ${(hitRate * 100).toFixed(1)} %`)
    const ratio = b.cpuMicrosPerRequest / (l.cpuMicrosPerRequest + dbCpuPerRequest)
    const threshold = GOALS[database]
    const unhealthy = [b, l].filter((t) => t.non2xx + t.errors + t.timeouts + t.mismatches > 0)
    return {
      targets: [b, l],
      ratio,
      goal: {
        description: `cold path on ${database} ≥ ${threshold * 100} % of bare by CPU per request${database === 'postgres' ? ' (PostgreSQL CPU included)' : ''}`,
        value: ratio,
        threshold,
        met: ratio >= threshold && unhealthy.length === 0,
      },
      notes: [
        ...notes,
        ...unhealthy.map(
          (t) => `${t.target}: ${t.non2xx} non-2xx, ${t.errors} errors, ${t.timeouts} timeouts, ${t.mismatches} unexpected bodies`,
        ),
      ],
    }
  } finally {
    await observer?.end()
    await bare?.stop()
    await lk.stop()
    await testDb?.drop()
  }
}

export default defineScenario({
  name: 'cold-reads',
  description: 'authorize for 100,000 connected users read at random (cache rarely hits) vs bare node:http, by CPU per request',
  async run(settings) {
    const runs = [await run('sqlite', settings)]
    if (await postgresAvailable()) runs.push(await run('postgres', settings))
    else settings.log('  PostgreSQL not reachable: SQLite only')
    return {
      scenario: 'cold-reads',
      description: this.description,
      targets: runs.flatMap((r) => r.targets),
      ratios: Object.fromEntries(
        runs.map((r, i) => [`latchkey/bare cpu per request (${i === 0 ? 'sqlite' : 'postgres, db included'})`, r.ratio]),
      ),
      goals: runs.map((r) => r.goal),
      notes: runs.flatMap((r) => r.notes),
    }
  },
})
