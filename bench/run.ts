/**
 * Benchmarks: `npm run bench`. Runs every scenario in bench/scenarios/ (each module's default
 * export is a `Scenario`), one after another; servers run in child processes and autocannon in
 * this one. Prints a table per scenario and writes bench/results/latest.json.
 *
 * Environment:
 *   BENCH_SECONDS         measured seconds per target (default 15)
 *   BENCH_WARMUP_SECONDS  discarded warm-up per target (default 3)
 *   BENCH_ROUNDS          alternating rounds the measured seconds are split into (default 15)
 *   BENCH_PIN             1 (default where Linux taskset exists and there are ≥ 2 CPUs): load generator on
 *                         CPU 0, servers on CPU 1; 0 lets the scheduler place them
 *   BENCH_CONNECTIONS     concurrent connections (default 50)
 *   BENCH_SCENARIOS       comma-separated scenario names to run (default: all)
 *   BENCH_CPU_PROF=1      profile the server process over each measured run, print where the
 *                         time goes, keep the .cpuprofile files in bench/results/profiles
 *
 * Exits with code 1 when a scenario fails or misses a goal.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, platform, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { pinServersTo } from './lib/child.js'
import type { BenchSettings, Scenario, ScenarioResult } from './lib/types.js'

const here = fileURLToPath(new URL('.', import.meta.url))

function num(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
  return n
}

async function loadScenarios(): Promise<Scenario[]> {
  const dir = join(here, 'scenarios')
  const files = readdirSync(dir)
    .filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
  const scenarios: Scenario[] = []
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: Scenario }
    const s = mod.default
    if (!s || typeof s.run !== 'function' || typeof s.name !== 'string')
      throw new Error(`bench/scenarios/${f}: the default export must be a Scenario (defineScenario({...}))`)
    scenarios.push(s)
  }
  return scenarios
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—'

function print(r: ScenarioResult): void {
  console.log(`\n== ${r.scenario}: ${r.description}`)
  console.log(
    table([
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'mean ms', 'requests', 'conns', 'errors', 'server cpu %', 'cpu µs/req'],
      ...r.targets.map((t) => [
        t.target,
        fmt(t.requestsPerSecond),
        // autocannon measures whole milliseconds; the paced load (a rate) measures finer.
        fmt(t.latencyMs.p50, Number.isInteger(t.latencyMs.p50) ? 0 : 2),
        fmt(t.latencyMs.p99, Number.isInteger(t.latencyMs.p99) ? 0 : 2),
        fmt(t.latencyMs.mean, 2),
        fmt(t.totalRequests),
        String(t.connections),
        String(t.non2xx + t.errors + t.timeouts + t.mismatches),
        fmt(t.serverCpuPercent),
        fmt(t.cpuMicrosPerRequest),
      ]),
    ]),
  )
  // A figure named in ms is one (an added latency), not a ratio.
  for (const [name, v] of Object.entries(r.ratios))
    console.log(/\bms\b/.test(name) ? `${name}: ${fmt(v, 2)} ms` : `ratio ${name}: ${fmt(v * 100, 1)} %`)
  for (const g of r.goals) {
    const [value, threshold] =
      g.unit === undefined
        ? [`${fmt(g.value * 100, 1)} %`, `${fmt(g.threshold * 100, 0)} %`]
        : [`${fmt(g.value, 1)} ${g.unit}`, `${fmt(g.threshold, 0)} ${g.unit}`]
    console.log(`goal ${g.met ? 'MET   ' : 'MISSED'} ${g.description}: ${value} (threshold ${threshold})`)
  }
  for (const n of r.notes) console.log(`note: ${n}`)
}

async function main(): Promise<void> {
  const resultsDir = join(here, 'results')
  mkdirSync(resultsDir, { recursive: true })
  const settings: BenchSettings = {
    seconds: num('BENCH_SECONDS', 15),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 3),
    rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', 15))),
    connections: num('BENCH_CONNECTIONS', 50),
    cpuProfile: process.env['BENCH_CPU_PROF'] === '1',
    scenario: '',
    resultsDir,
    log: (m) => console.error(m),
  }
  const cores = availableParallelism()
  const pinned = pin(cores)
  const only = (process.env['BENCH_SCENARIOS'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const all = await loadScenarios()
  const unknown = only.filter((n) => !all.some((s) => s.name === n))
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`)
  const chosen = only.length > 0 ? all.filter((s) => only.includes(s.name)) : all

  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores,
    pinned,
    settings: {
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
      rounds: settings.rounds,
      connections: settings.connections,
      cpuProfile: settings.cpuProfile,
    },
  }
  console.error(
    `latchkey bench: node ${meta.node}, ${meta.cores} cores (${meta.cpu}); ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.seconds} s per target in ${Math.max(1, Math.min(settings.rounds, Math.floor(settings.seconds)))} rounds; ${pinned ? 'load generator pinned to CPU 0, servers to CPU 1' : 'not pinned'}`,
  )

  const results: ScenarioResult[] = []
  const failures: Array<{ scenario: string; error: string }> = []
  for (const s of chosen) {
    console.error(`\n-- ${s.name}`)
    try {
      const r = await s.run({ ...settings, scenario: s.name })
      results.push(r)
      print(r)
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
      failures.push({ scenario: s.name, error: message })
      console.error(`scenario ${s.name} failed: ${message}`)
    }
  }

  const file = join(resultsDir, 'latest.json')
  writeFileSync(file, `${JSON.stringify({ ...meta, results, failures }, null, 2)}\n`)
  console.log(`\nresults written to ${file}`)
  const missed = results.flatMap((r) => r.goals.filter((g) => !g.met).map((g) => `${r.scenario}: ${g.description}`))
  if (missed.length > 0) console.log(`goals missed:\n  ${missed.join('\n  ')}`)
  // Repeated at the end: a failure's stack is printed where it happened, easily lost in a long run.
  if (failures.length > 0)
    console.log(`scenarios failed:\n  ${failures.map((f) => `${f.scenario}: ${f.error.split('\n')[0]}`).join('\n  ')}`)
  if (failures.length > 0 || missed.length > 0) process.exitCode = 1
}

/** Pins this process (the load generator) to CPU 0 and every server to CPU 1 (see `pinServersTo`). */
function pin(cores: number): boolean {
  if (process.env['BENCH_PIN'] === '0' || cores < 2 || platform() !== 'linux') return false
  try {
    // Both CPUs must be ours (a cpuset may hand out others).
    execFileSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' })
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  } catch {
    console.error('taskset is not available or CPUs 0 and 1 are not both usable: load generator and servers are not pinned')
    return false
  }
  pinServersTo(1)
  return true
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
