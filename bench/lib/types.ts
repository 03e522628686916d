import type { ProfileSummary } from './profile.js'

/**
 * The shapes every benchmark scenario shares. A scenario is a module in `bench/scenarios/`
 * whose default export is a `Scenario`; `bench/run.ts` discovers and runs them one after another.
 */

export interface BenchSettings {
  /** Measured seconds per target (env BENCH_SECONDS, default 15). */
  seconds: number
  /** Discarded warm-up seconds per target before measuring (env BENCH_WARMUP_SECONDS, default 3). */
  warmupSeconds: number
  /** Alternating rounds the measured seconds are split into, where a scenario compares targets (env BENCH_ROUNDS, default 15). */
  rounds: number
  /** Concurrent connections per target (env BENCH_CONNECTIONS, default 50). */
  connections: number
  /** Profile the server process over each measured run and summarize it (env BENCH_CPU_PROF=1). */
  cpuProfile: boolean
  /** The running scenario's name (set by the runner; names profile files). */
  scenario: string
  /** Where results (and profiles) are written: bench/results. */
  resultsDir: string
  log(message: string): void
}

/** One load-tested target, measured alone. */
export interface TargetResult {
  target: string
  description: string
  connections: number
  seconds: number
  /** Mean completed requests per second (autocannon's per-second samples). */
  requestsPerSecond: number
  totalRequests: number
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number }
  /**
   * Server CPU time (user + system) per completed request during the measured run. Unlike
   * req/s it does not depend on whether the load generator or a noisy neighbour was the limit.
   */
  cpuMicrosPerRequest: number
  /** Server CPU use during the run (100 = one core saturated); well below 100 means the server was not the bottleneck. */
  serverCpuPercent: number
  /** Anything that did not answer as expected; a healthy run has all zeros. */
  non2xx: number
  errors: number
  timeouts: number
  mismatches: number
  /** Where the server spent its time during the measured run (BENCH_CPU_PROF=1). */
  profile?: ProfileSummary
}

export interface GoalResult {
  description: string
  value: number
  threshold: number
  met: boolean
  /** What value and threshold are in (`ms`, `deliveries/s`); without it they are ratios, printed as %. */
  unit?: string
}

export interface ScenarioResult {
  scenario: string
  description: string
  targets: TargetResult[]
  /** Named ratios between targets (e.g. `latchkey/bare`: throughput ratio). */
  ratios: Record<string, number>
  goals: GoalResult[]
  notes: string[]
}

export interface Scenario {
  /** Short id used in BENCH_SCENARIOS and in the results file. */
  name: string
  description: string
  run(settings: BenchSettings): Promise<ScenarioResult>
}

export function defineScenario(s: Scenario): Scenario {
  return s
}
