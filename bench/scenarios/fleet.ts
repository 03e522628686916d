/**
 * Fleet: two Latchkey processes on one PostgreSQL database (a fresh one on the test server) under a
 * mixed load spread round-robin across them, as a load balancer without affinity would:
 *
 * - hot reads: `authorize` for one of BENCH_FLEET_HOT_USERS (5) connected users (cache hits);
 * - cold reads: `authorize` for one of BENCH_FLEET_COLD_USERS (20,000) at random (cache misses);
 * - new flows: `authorize` for a new user → pending + link, then the link's Continue (POST) →
 *   303 to the provider's real authorization URL with state and PKCE challenge (two requests);
 * - callbacks: a started flow completed — the provider's consent, then `GET /oauth/callback`
 *   with the browser's binding cookie; Latchkey exchanges the code and stores the connection;
 * - refreshes: one of BENCH_FLEET_DUE (4,000) due connections read on BOTH processes at once.
 *
 * Each request of a flow goes to the next process, so a flow started on one process is usually
 * continued and called back on the other. The provider is `lib/token-endpoint.ts` in this process:
 * refresh tokens rotate and work once, and `consent()` mints the authorization code without a
 * browser or login page. The test IdP (oidc-provider + a scripted browser) would spend several
 * times Latchkey's CPU per flow on sign-in, consent and JWTs in the load generator, which shares
 * its core with the provider; this keeps the generator cheap and the figure Latchkey's.
 *
 * Mix (BENCH_FLEET_MIX, weights of operations, default `hot=60,cold=25,flow=5,callback=4,refresh=6`):
 * BENCH_CONNECTIONS (50) workers each pick the next operation by weight (closed loop), so the
 * mix of operations is fixed and the rate is whatever the fleet sustains. BENCH_FLEET_SECONDS (30)
 * are measured in BENCH_FLEET_ROUNDS (3) rounds after a BENCH_WARMUP_SECONDS warm-up, each followed
 * by BENCH_FLEET_BARE_SECONDS (3; 0: none) of the hot-read request against a bare `node:http`
 * route, for scale: CPU per request of the fleet (both processes + PostgreSQL) against bare's.
 * Latchkey and PostgreSQL CPU are read over the whole measured span (the idle bare rounds
 * included, so work a process defers — audit and last-use batches — is counted).
 *
 * BENCH_CPU_PROF=1 profiles process A over the first round.
 *
 * Checks (goals): each due connection read was refreshed exactly once across the two processes
 * (provider refresh grants = due connections read, no refresh token presented twice, both reads
 * got the same token); every flow whose callback answered "connected" has its connection, read
 * back on the other process with the token the code exchange issued; no request failed.
 */
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { Pool } from 'undici'
import { Keyring } from '../../src/crypto/keyring.js'
import { freePort } from '../../test/helpers/ports.js'
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../test/helpers/postgres.js'
import { startBare } from '../lib/bare.js'
import { type ChildServer, forkServer } from '../lib/child.js'
import { seedFleetConnections } from '../lib/fleet-seed.js'
import { latencyStats } from '../lib/latency.js'
import { backendCpuBetween, postgresBackendCpu } from '../lib/postgres-cpu.js'
import { formatProfile, summarizeProfile } from '../lib/profile.js'
import { startTokenEndpoint, type TokenEndpoint } from '../lib/token-endpoint.js'
import { type BenchSettings, defineScenario, type ScenarioResult, type TargetResult } from '../lib/types.js'
import type { BareInfo } from '../servers/bare.js'
import type { LatchkeyArgs, LatchkeyInfo } from '../servers/latchkey.js'

const LATCHKEY_ENTRY = fileURLToPath(new URL('../servers/latchkey.ts', import.meta.url))
const DESCRIPTION = 'two Latchkey processes on one PostgreSQL, mixed load round-robin: hot and cold reads, new flows, callbacks, refreshes'
const PROVIDER = 'bench-local'
const SCOPES = ['openid', 'profile']
const KINDS = ['hot', 'cold', 'start', 'link', 'callback', 'refresh'] as const
type Kind = (typeof KINDS)[number]
type Op = 'hot' | 'cold' | 'flow' | 'callback' | 'refresh'
const OPS: Op[] = ['hot', 'cold', 'flow', 'callback', 'refresh']
const DESCRIPTIONS: Record<Kind, string> = {
  hot: 'authorize, connected user, cache hit',
  cold: 'authorize, one of many users at random',
  start: 'new flow: authorize → pending + link',
  link: "new flow: the link's Continue → 303 to the provider",
  callback: 'callback: code exchange, connection stored',
  refresh: 'due connection read on both processes at once',
}

const num = (name: string, fallback: number) => {
  const raw = process.env[name]
  const n = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
  return n
}

function parseMix(raw: string): Record<Op, number> {
  const mix: Record<Op, number> = { hot: 0, cold: 0, flow: 0, callback: 0, refresh: 0 }
  for (const part of raw.split(',').filter(Boolean)) {
    const [k, v] = part.split('=').map((s) => s.trim())
    if (!OPS.includes(k as Op) || !Number.isFinite(Number(v)) || Number(v) < 0)
      throw new Error(`BENCH_FLEET_MIX: bad entry ${JSON.stringify(part)} (known: ${OPS.join(', ')})`)
    mix[k as Op] = Number(v)
  }
  if (OPS.every((o) => mix[o] === 0)) throw new Error('BENCH_FLEET_MIX: every weight is 0')
  return mix
}

interface Proc {
  name: string
  server: ChildServer<LatchkeyInfo>
  url: string
  pool: Pool
  requests: number
  latencies: number[]
}

interface Stats {
  requests: number
  errors: number
  latencies: number[]
}

interface PendingFlow {
  user: string
  location: string
  cookie: string
}

function row(target: string, description: string, latencies: number[], requests: number, seconds: number, connections: number) {
  return {
    target,
    description,
    connections,
    seconds,
    requestsPerSecond: requests / seconds,
    totalRequests: requests,
    latencyMs: latencyStats(latencies),
    cpuMicrosPerRequest: NaN,
    serverCpuPercent: NaN,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    mismatches: 0,
  } satisfies TargetResult
}

async function startFleet(db: TestDatabase, endpoint: TokenEndpoint, encryptionKeys: string): Promise<Proc[]> {
  const ports = [await freePort(), await freePort()]
  // Both at once, as when a fleet is scaled out: the migrator's lock makes concurrent starts safe.
  const started = await Promise.allSettled(
    ports.map((port) =>
      forkServer<LatchkeyInfo>(LATCHKEY_ENTRY, {
        args: {
          port,
          databaseFile: db.url,
          encryptionKeys,
          providerEntries: [endpoint.entry(PROVIDER)],
          env: { LATCHKEY_RATE_LIMIT_PER_MINUTE: '1000000000' },
        } satisfies LatchkeyArgs,
        // Start-up takes several seconds on a loaded 2-core machine, twice at once longer.
        readyTimeoutMs: 120_000,
      }),
    ),
  )
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()))
    throw failed.reason
  }
  return servers.map((server, i) => ({
    name: `latchkey ${'AB'[i]}`,
    server,
    url: server.info.url,
    pool: new Pool(server.info.url, { connections: 64, pipelining: 1 }),
    requests: 0,
    latencies: [],
  }))
}

const cpuOf = (u: NodeJS.CpuUsage) => u.user + u.system

async function runFleet(settings: BenchSettings): Promise<ScenarioResult> {
  const mix = parseMix(process.env['BENCH_FLEET_MIX'] ?? 'hot=60,cold=25,flow=5,callback=4,refresh=6')
  const seconds = num('BENCH_FLEET_SECONDS', 30)
  const rounds = Math.max(1, Math.round(num('BENCH_FLEET_ROUNDS', 3)))
  const bareSeconds = num('BENCH_FLEET_BARE_SECONDS', 3)
  const hotN = Math.max(1, Math.round(num('BENCH_FLEET_HOT_USERS', 5)))
  const coldN = Math.max(1, Math.round(num('BENCH_FLEET_COLD_USERS', 20_000)))
  const dueN = Math.round(num('BENCH_FLEET_DUE', 4000))
  const workers = Math.max(1, settings.connections)
  const loadBefore = loadavg()

  const db = await createTestDatabase()
  const encryptionKeys = `1:${Keyring.generateKey()}`
  let endpointToClose: TokenEndpoint | undefined
  let procs: Proc[] = []
  let bare: ChildServer<BareInfo> | undefined
  let barePool: Pool | undefined
  let observer: pg.Client | undefined
  try {
    const endpoint = await startTokenEndpoint()
    endpointToClose = endpoint
    settings.log('  starting two Latchkey processes on one PostgreSQL database')
    const tStart = performance.now()
    procs = await startFleet(db, endpoint, encryptionKeys)
    settings.log(`  both ready after ${((performance.now() - tStart) / 1000).toFixed(1)} s`)
    const runtimeKey = procs[0]!.server.info.runtimeKey
    const jsonHeaders = { authorization: runtimeKey, 'content-type': 'application/json', accept: 'application/json' }
    const authorizeBody = (user: string) =>
      JSON.stringify({ auth_requirement: { provider_id: PROVIDER, provider_type: 'oauth2', oauth2: { scopes: SCOPES } }, user_id: user })

    // Errors are counted in warm-up too (a failure is a failure); requests and latencies only when recording.
    const stats = Object.fromEntries(KINDS.map((k) => [k, { requests: 0, errors: 0, latencies: [] }])) as unknown as Record<Kind, Stats>
    const firstErrors = new Map<Kind, string>()
    let recording = false
    let rr = 0
    const nextProc = () => procs[rr++ % procs.length]!
    const fail = (kind: Kind, message: string) => {
      stats[kind].errors++
      if (!firstErrors.has(kind)) {
        firstErrors.set(kind, message.slice(0, 300))
        settings.log(`  ${kind}: first failure: ${message.slice(0, 300)}`)
      }
    }

    const send = async (
      kind: Kind,
      p: Proc,
      path: string,
      init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
    ) => {
      const t0 = performance.now()
      const res = await p.pool.request({ path, ...init })
      const text = await res.body.text()
      const ms = performance.now() - t0
      if (recording) {
        const s = stats[kind]
        s.requests++
        s.latencies.push(ms)
        p.requests++
        p.latencies.push(ms)
      }
      return { status: res.statusCode, headers: res.headers, text }
    }
    const authorizeAt = (kind: Kind, p: Proc, user: string) =>
      send(kind, p, '/v1/auth/authorize', { method: 'POST', headers: jsonHeaders, body: authorizeBody(user) })
    const tokenOf = (text: string) => {
      try {
        const body = JSON.parse(text) as { status?: string; context?: { token?: string } }
        return body.status === 'completed' ? body.context?.token : undefined
      } catch {
        return undefined
      }
    }

    // ---- operations ----
    let flows = 0
    const pending: PendingFlow[] = []
    let pendingHead = 0
    const completed: Array<{ user: string; accessToken: string; calledBack: Proc }> = []
    const flowStart = async (user: string): Promise<PendingFlow | undefined> => {
      const started = await authorizeAt('start', nextProc(), user)
      let link: string | undefined
      try {
        const body = JSON.parse(started.text) as { status?: string; url?: string }
        if (started.status === 200 && body.status === 'pending') link = body.url
      } catch {}
      if (!link) {
        fail('start', `HTTP ${started.status} ${started.text.slice(0, 200)}`)
        return undefined
      }
      // The person's browser presses Continue on our page (a browser sends Sec-Fetch-Site: same-origin).
      const cont = await send('link', nextProc(), new URL(link).pathname, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body: '',
      })
      const location = cont.headers['location']
      const setCookie = cont.headers['set-cookie']
      const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0]
      if (cont.status !== 303 || typeof location !== 'string' || !location.startsWith(`${endpoint.url}/authorize?`) || !cookie) {
        fail('link', `HTTP ${cont.status} location ${String(location)} ${cont.text.slice(0, 200)}`)
        return undefined
      }
      return { user, location, cookie }
    }
    const newFlowUser = () => `fleet-flow-${flows++}@example.com`
    const callBack = async (flow: PendingFlow, at: Proc = nextProc()) => {
      const { callbackUrl, accessToken } = endpoint.consent(flow.location)
      const u = new URL(callbackUrl)
      const r = await send('callback', at, `${u.pathname}${u.search}`, { method: 'GET', headers: { cookie: flow.cookie } })
      if (r.status !== 200 || !r.text.includes('is now connected to')) return fail('callback', `HTTP ${r.status} ${r.text.slice(0, 200)}`)
      completed.push({ user: flow.user, accessToken, calledBack: at })
    }

    const hotUsers = Array.from({ length: hotN }, (_, i) => `fleet-hot-${i}@example.com`)
    const coldUsers = Array.from({ length: coldN }, (_, i) => `fleet-cold-${i}@example.com`)
    const hotBodies = hotUsers.map(authorizeBody)
    const coldBodies = coldUsers.map(authorizeBody)
    const read = async (kind: 'hot' | 'cold') => {
      const bodies = kind === 'hot' ? hotBodies : coldBodies
      const r = await send(kind, nextProc(), '/v1/auth/authorize', {
        method: 'POST',
        headers: jsonHeaders,
        body: bodies[Math.floor(Math.random() * bodies.length)]!,
      })
      if (r.status !== 200 || !r.text.includes('"status":"completed"')) fail(kind, `HTTP ${r.status} ${r.text.slice(0, 200)}`)
    }

    const dueUsers = Array.from({ length: dueN }, (_, i) => `fleet-due-${i}@example.com`)
    let dueNext = 0
    let dueExhausted = 0
    const dueTokens = new Map<string, Set<string>>()
    let dueFailedReads = 0
    const refresh = async () => {
      const user = dueUsers[dueNext]
      if (user === undefined) {
        // Out of due connections: a hot read instead (never a no-op, which would spin the event loop).
        dueExhausted++
        return read('hot')
      }
      dueNext++
      const answers = await Promise.all(procs.map((p) => authorizeAt('refresh', p, user)))
      const seen = new Set<string>()
      for (const a of answers) {
        const t = tokenOf(a.text)
        if (a.status !== 200 || !t) {
          dueFailedReads++
          fail('refresh', `HTTP ${a.status} ${a.text.slice(0, 200)}`)
        } else seen.add(t)
      }
      dueTokens.set(user, seen)
    }

    let callbacksWithoutPending = 0
    const run = async (op: Op): Promise<void> => {
      switch (op) {
        case 'hot':
        case 'cold':
          return read(op)
        case 'flow': {
          const f = await flowStart(newFlowUser())
          if (f) pending.push(f)
          return
        }
        case 'callback': {
          let f = pendingHead < pending.length ? pending[pendingHead++] : undefined
          if (!f) {
            // Nothing started to complete: start one first (its two requests count as a new flow).
            callbacksWithoutPending++
            f = await flowStart(newFlowUser())
            if (!f) return
          }
          return callBack(f)
        }
        case 'refresh':
          return refresh()
      }
    }
    const weightSum = OPS.reduce((s, o) => s + mix[o], 0)
    const opCounts: Record<Op, number> = { hot: 0, cold: 0, flow: 0, callback: 0, refresh: 0 }
    const pick = (): Op => {
      let x = Math.random() * weightSum
      for (const o of OPS) {
        x -= mix[o]
        if (x < 0) return o
      }
      return 'hot'
    }
    const drive = async (forSeconds: number) => {
      const end = performance.now() + forSeconds * 1000
      await Promise.all(
        Array.from({ length: workers }, async () => {
          while (performance.now() < end) {
            const op = pick()
            if (recording) opCounts[op]++
            try {
              await run(op)
            } catch (err) {
              fail(op === 'flow' ? 'start' : op, (err as Error).message)
            }
          }
        }),
      )
    }

    // ---- seeding: one connection through the flow (start on A, Continue on B, callback on A) ----
    const templateUser = 'fleet-template@example.com'
    const first = await flowStart(templateUser)
    if (!first) throw new Error(`the first flow did not reach the provider: ${[...firstErrors.values()].join('; ')}`)
    await callBack(first, procs[0])
    if (completed.length !== 1) throw new Error(`the first callback did not connect: ${[...firstErrors.values()].join('; ')}`)
    completed.length = 0
    settings.log(`  seeding ${hotN} hot + ${coldN.toLocaleString('en-US')} cold + ${dueN.toLocaleString('en-US')} due connections`)
    await seedFleetConnections(db.url, encryptionKeys, { userId: templateUser, providerId: PROVIDER }, [
      { users: hotUsers, kind: 'fresh' },
      { users: coldUsers, kind: 'fresh' },
      { users: dueUsers, kind: 'due', refreshToken: endpoint.issue },
    ])
    settings.log(`  seeded after ${((performance.now() - tStart) / 1000).toFixed(1)} s`)

    bare = bareSeconds > 0 ? await startBare() : undefined
    barePool = bare && new Pool(bare.info.url, { connections: 64, pipelining: 1 })
    observer = new pg.Client({ connectionString: db.url })
    await observer.connect()

    if (settings.warmupSeconds > 0) {
      settings.log(`  warm-up ${settings.warmupSeconds} s`)
      await drive(settings.warmupSeconds)
    }
    const bareStats = { requests: 0, latencies: [] as number[], errors: 0, cpuMicros: 0, seconds: 0 }
    const driveBare = async (forSeconds: number) => {
      const end = performance.now() + forSeconds * 1000
      const cpu0 = await bare!.cpuUsage()
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: workers }, async () => {
          while (performance.now() < end) {
            const s = performance.now()
            const res = await barePool!.request({
              path: '/v1/auth/authorize',
              method: 'POST',
              headers: jsonHeaders,
              body: hotBodies[Math.floor(Math.random() * hotBodies.length)]!,
            })
            await res.body.text()
            bareStats.latencies.push(performance.now() - s)
            bareStats.requests++
            if (res.statusCode !== 200) bareStats.errors++
          }
        }),
      )
      bareStats.seconds += (performance.now() - t0) / 1000
      bareStats.cpuMicros += cpuOf(await bare!.cpuUsage()) - cpuOf(cpu0)
    }

    const perRound = seconds / rounds
    settings.log(
      `  measuring ${seconds} s of the mix in ${rounds} rounds${bare ? `, each followed by ${bareSeconds} s against bare node:http` : ''}; ${workers} workers`,
    )
    const refreshesBefore = endpoint.refreshes
    // stats() runs a full GC in the child: read it outside the CPU readings.
    const misses0 = await Promise.all(procs.map(async (p) => (await p.server.stats())['connectionCacheMisses'] ?? 0))
    const procCpu0 = await Promise.all(procs.map((p) => p.server.cpuUsage()))
    const pg0 = await postgresBackendCpu(observer)
    const spanStart = performance.now()
    let fleetSeconds = 0
    for (let round = 0; round < rounds; round++) {
      // BENCH_CPU_PROF=1: process A over the first round (B runs the same code on the same mix).
      const profiling = settings.cpuProfile && round === 0
      if (profiling) await procs[0]!.server.startProfile()
      recording = true
      const t0 = performance.now()
      const before = KINDS.reduce((s, k) => s + stats[k].requests, 0)
      await drive(perRound)
      const spent = (performance.now() - t0) / 1000
      fleetSeconds += spent
      recording = false
      if (profiling) {
        const file = join(settings.resultsDir, 'profiles', 'fleet-latchkey-A.cpuprofile')
        await procs[0]!.server.stopProfile(file)
        settings.log(formatProfile('fleet latchkey A', summarizeProfile(file)))
      }
      const done = KINDS.reduce((s, k) => s + stats[k].requests, 0) - before
      settings.log(`    round ${round + 1}/${rounds} fleet: ${(done / spent).toFixed(0)} req/s`)
      if (bare) {
        const b0 = bareStats.requests
        const s0 = bareStats.seconds
        await driveBare(bareSeconds)
        settings.log(`    round ${round + 1}/${rounds} bare: ${((bareStats.requests - b0) / (bareStats.seconds - s0)).toFixed(0)} req/s`)
      }
    }
    const procCpu1 = await Promise.all(procs.map((p) => p.server.cpuUsage()))
    const pg1 = await postgresBackendCpu(observer)
    const spanSeconds = (performance.now() - spanStart) / 1000
    const misses1 = await Promise.all(procs.map(async (p) => (await p.server.stats())['connectionCacheMisses'] ?? 0))
    const refreshesMeasured = endpoint.refreshes - refreshesBefore
    const loadAfter = loadavg()

    // ---- correctness: every completed flow's connection, read back on the other process ----
    settings.log(`  checking ${completed.length} completed flows on the other process`)
    recording = false
    let missing = 0
    let wrongToken = 0
    for (let i = 0; i < completed.length; i += workers) {
      await Promise.all(
        completed.slice(i, i + workers).map(async (c) => {
          const other = procs.find((p) => p !== c.calledBack)!
          const r = await authorizeAt('hot', other, c.user)
          const t = tokenOf(r.text)
          if (!t) {
            missing++
            if (missing === 1) settings.log(`  first missing connection: ${c.user}: HTTP ${r.status} ${r.text.slice(0, 200)}`)
          } else if (t !== c.accessToken) wrongToken++
        }),
      )
    }
    const { rows } = await observer.query<{ n: string }>("select count(*) as n from connections where user_id like 'fleet-flow-%'")
    const flowConnections = Number(rows[0]!.n)
    const flowsPresent = missing === 0 && wrongToken === 0 && flowConnections === completed.length

    const dueRead = dueNext
    const oneTokenEach = [...dueTokens.values()].every((s) => s.size === 1)
    const exactlyOnce = endpoint.refreshes === dueRead && endpoint.reused === 0 && dueFailedReads === 0 && oneTokenEach

    // ---- results ----
    const targets: TargetResult[] = []
    for (const k of KINDS) {
      const s = stats[k]
      targets.push({ ...row(k, DESCRIPTIONS[k], s.latencies, s.requests, fleetSeconds, workers), errors: s.errors })
    }
    const fleetRequests = procs.reduce((s, p) => s + p.requests, 0)
    const procMicros = procs.map((_, i) => cpuOf(procCpu1[i]!) - cpuOf(procCpu0[i]!))
    const pgMicros = backendCpuBetween(pg0, pg1)
    const allLatencies = procs.flatMap((p) => p.latencies)
    for (const [i, p] of procs.entries()) {
      targets.push({
        ...row(p.name, 'every operation it served', p.latencies, p.requests, fleetSeconds, workers),
        cpuMicrosPerRequest: procMicros[i]! / p.requests,
        serverCpuPercent: procMicros[i]! / 1e4 / spanSeconds,
      })
    }
    targets.push({
      ...row('postgres backends', "PostgreSQL's own CPU for this database, per fleet request", [], fleetRequests, fleetSeconds, workers),
      cpuMicrosPerRequest: pgMicros / fleetRequests,
    })
    const fleetMicros = procMicros.reduce((a, b) => a + b, 0) + pgMicros
    targets.push({
      ...row('fleet total', 'both processes + PostgreSQL', allLatencies, fleetRequests, fleetSeconds, workers),
      cpuMicrosPerRequest: fleetMicros / fleetRequests,
    })
    const ratios: Record<string, number> = {}
    if (bare) {
      targets.push({
        ...row(
          'bare node:http',
          'the hot-read request, same load generator, between the rounds',
          bareStats.latencies,
          bareStats.requests,
          bareStats.seconds,
          workers,
        ),
        cpuMicrosPerRequest: bareStats.cpuMicros / bareStats.requests,
        serverCpuPercent: bareStats.cpuMicros / 1e4 / bareStats.seconds,
        errors: bareStats.errors,
      })
      ratios['bare/fleet cpu per request (both processes + PostgreSQL, whole mix)'] =
        bareStats.cpuMicros / bareStats.requests / (fleetMicros / fleetRequests)
    }
    const errors = KINDS.reduce((s, k) => s + stats[k].errors, 0)
    // Misses the other operations cause by design: every cold read, both reads of a due connection,
    // the start of a flow for a new user. What is left over was a hot read that missed.
    const misses = misses1.reduce((a, b) => a + b, 0) - misses0.reduce((a, b) => a + b, 0)
    const expectedMisses = stats.cold.requests + stats.refresh.requests + stats.start.requests
    const hotHitRate = stats.hot.requests > 0 ? Math.min(1, Math.max(0, 1 - (misses - expectedMisses) / stats.hot.requests)) : NaN
    const measuredOps = OPS.reduce((s, o) => s + opCounts[o], 0)
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ')
    const notes = [
      `load average (1/5/15 min) at start ${fmtLoad(loadBefore)}, after measuring ${fmtLoad(loadAfter)}`,
      `measured ${measuredOps.toLocaleString('en-US')} operations in ${fleetSeconds.toFixed(1)} s: ${OPS.map((o) => `${o} ${((opCounts[o] / measuredOps) * 100).toFixed(1)} %`).join(', ')} (weights ${OPS.map((o) => `${o}=${mix[o]}`).join(',')}); a flow is 2 requests (start, link), a refresh 2 (one per process)`,
      `fleet: ${fleetRequests.toLocaleString('en-US')} requests, ${(fleetRequests / fleetSeconds).toFixed(0)} req/s; CPU per request: ${procs.map((p, i) => `${p.name} ${(procMicros[i]! / p.requests).toFixed(0)} µs`).join(', ')}, PostgreSQL ${(pgMicros / fleetRequests).toFixed(0)} µs, total ${(fleetMicros / fleetRequests).toFixed(0)} µs (Latchkey CPU and PostgreSQL's over the whole measured span, bare rounds included)`,
      `connection-cache misses while measuring: ${misses.toLocaleString('en-US')} (both processes); hot reads' hit rate ≈ ${(hotHitRate * 100).toFixed(1)} % (misses beyond one per cold read, refresh read and flow start, over hot reads; ${hotN} hot users, cache TTL 2 s per process)`,
      `refresh: ${dueRead} due connections read (${refreshesMeasured} while measuring), each on both processes at once → ${endpoint.refreshes} provider refresh grants, ${endpoint.reused} refresh tokens presented twice, ${dueFailedReads} failed reads, one token per connection: ${oneTokenEach ? 'yes' : 'NO'}${dueExhausted > 0 ? `; due connections ran out: ${dueExhausted} refresh picks became hot reads (raise BENCH_FLEET_DUE)` : ''}`,
      `flows: ${flows} started, ${completed.length} completed by a callback (${endpoint.codes} codes exchanged, ${endpoint.badCodes} rejected), ${pending.length - pendingHead} left pending (abandoned), ${callbacksWithoutPending} callbacks started their own flow; read back on the other process: ${completed.length - missing - wrongToken} with the exchanged token, ${missing} missing, ${wrongToken} with another token; ${flowConnections} flow connections in the database`,
      'pinning (BENCH_PIN): both Latchkey processes share CPU 1; the load generator and the provider CPU 0; PostgreSQL is not pinned',
      ...[...firstErrors].map(([k, m]) => `${k}: first failure: ${m}`),
    ]
    return {
      scenario: 'fleet',
      description: DESCRIPTION,
      targets,
      ratios,
      goals: [
        {
          description: 'each due connection refreshed exactly once across both processes (one provider call, no refresh token twice)',
          value: exactlyOnce ? 1 : 0,
          threshold: 1,
          met: exactlyOnce,
        },
        {
          description: "every completed flow's connection present, with its token, on the other process",
          value: flowsPresent ? 1 : 0,
          threshold: 1,
          met: flowsPresent,
        },
        {
          description: 'no failed request in the mix (value: share that succeeded)',
          value: 1 - errors / Math.max(1, fleetRequests),
          threshold: 1,
          met: errors === 0,
        },
      ],
      notes,
    }
  } finally {
    await observer?.end()
    await barePool?.close()
    await bare?.stop()
    for (const p of procs) {
      await p.pool.close()
      await p.server.stop()
    }
    await endpointToClose?.close()
    await db.drop()
  }
}

export default defineScenario({
  name: 'fleet',
  description: DESCRIPTION,
  async run(settings) {
    if (await postgresAvailable()) return runFleet(settings)
    settings.log('  PostgreSQL not reachable: fleet skipped')
    return {
      scenario: 'fleet',
      description: this.description,
      targets: [],
      ratios: {},
      goals: [],
      notes: ['skipped: PostgreSQL not reachable'],
    }
  },
})
