/**
 * Load generation with autocannon (in the parent process): a discarded warm-up, then the
 * measured run, reduced to the numbers we compare.
 */
import { join } from 'node:path'
import autocannon, { type Result } from 'autocannon'
import type { ChildServer } from './child.js'
import { paced } from './paced.js'
import { formatProfile, summarizeProfile } from './profile.js'
import type { BenchSettings, TargetResult } from './types.js'

export interface LoadTarget {
  name: string
  description: string
  url: string
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  headers?: Record<string, string>
  body?: string
  /** A body per request (e.g. a random user), instead of `body`; runs in the load generator. */
  nextBody?: () => string
  /** Checks each response body; failures are counted as mismatches. Keep it cheap. */
  verifyBody?: (body: string) => boolean
  /** Overrides the settings' connection count for this target. */
  connections?: number
  /** Requests per second over all connections, sent on schedule (`paced.ts`); unset: as fast as answered (autocannon). */
  rate?: number
  /** The process serving this target: profiled during the measured run when BENCH_CPU_PROF=1. */
  server?: ChildServer<unknown>
}

/** `paced` with its result in the shape of autocannon's, as far as `measure` reads it. */
async function firePaced(target: LoadTarget, connections: number, rate: number, seconds: number): Promise<Result> {
  const r = await paced(
    {
      url: target.url,
      ...(target.method === 'GET' || target.method === 'POST' ? { method: target.method } : {}),
      ...(target.headers ? { headers: target.headers } : {}),
      ...(target.body !== undefined ? { body: target.body } : {}),
      ...(target.verifyBody ? { verifyBody: target.verifyBody } : {}),
      connections,
      rate,
    },
    seconds,
  )
  return {
    duration: r.durationSeconds,
    requests: { average: r.total / r.durationSeconds, total: r.total },
    latency: { p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99, mean: r.latencyMs.mean, max: r.latencyMs.max },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: 0,
    mismatches: r.mismatches,
    statusCodeStats: {},
  } as unknown as Result
}

async function fire(target: LoadTarget, connections: number, seconds: number): Promise<Result> {
  return autocannon({
    url: target.url,
    method: target.method ?? 'GET',
    connections,
    duration: seconds,
    timeout: 10,
    ...(target.headers ? { headers: target.headers } : {}),
    ...(target.body !== undefined ? { body: target.body } : {}),
    ...(target.verifyBody ? { verifyBody: target.verifyBody } : {}),
    ...(target.nextBody
      ? {
          requests: [
            {
              setupRequest: (req: Record<string, unknown>) => {
                req['body'] = target.nextBody!()
                return req
              },
            },
          ],
        }
      : {}),
  })
}

export async function measure(target: LoadTarget, settings: BenchSettings): Promise<TargetResult> {
  const connections = target.connections ?? settings.connections
  if (settings.warmupSeconds > 0) {
    settings.log(`  ${target.name}: warm-up ${settings.warmupSeconds} s`)
    await fire(target, connections, settings.warmupSeconds)
  }
  settings.log(`  ${target.name}: measuring ${settings.seconds} s with ${connections} connections`)
  const profiling = settings.cpuProfile && target.server !== undefined
  if (profiling) await target.server!.startProfile()
  const cpuBefore = await target.server?.cpuUsage()
  const r = target.rate
    ? await firePaced(target, connections, target.rate, settings.seconds)
    : await fire(target, connections, settings.seconds)
  const cpuAfter = await target.server?.cpuUsage()
  let profile: TargetResult['profile']
  if (profiling) {
    const file = join(settings.resultsDir, 'profiles', `${settings.scenario}-${target.name}.cpuprofile`)
    await target.server!.stopProfile(file)
    profile = summarizeProfile(file)
    settings.log(formatProfile(target.name, profile))
  }
  const result: TargetResult = {
    target: target.name,
    description: target.description,
    connections,
    seconds: r.duration,
    requestsPerSecond: r.requests.average,
    totalRequests: r.requests.total ?? 0,
    latencyMs: {
      p50: r.latency['p50'] ?? NaN,
      p90: r.latency['p90'] ?? NaN,
      p99: r.latency['p99'] ?? NaN,
      mean: r.latency.mean,
      max: r.latency.max,
    },
    cpuMicrosPerRequest:
      cpuBefore && cpuAfter && r.requests.total
        ? (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / r.requests.total
        : NaN,
    serverCpuPercent:
      cpuBefore && cpuAfter ? ((cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1e6 / r.duration) * 100 : NaN,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    ...(profile ? { profile } : {}),
  }
  if (result.non2xx + result.errors + result.timeouts + result.mismatches > 0) {
    const codes = Object.entries(r.statusCodeStats)
      .map(([code, s]) => `${code}×${s.count}`)
      .join(', ')
    settings.log(
      `  ${target.name}: WARNING non2xx=${result.non2xx} errors=${result.errors} timeouts=${result.timeouts} mismatches=${result.mismatches} (status codes: ${codes})`,
    )
  }
  return result
}

/**
 * Measures several targets in alternating rounds (A B C, A B C, …) after one warm-up each, so a
 * slow spell of a shared machine hits every target alike instead of whichever ran then. Returns
 * each target's rounds; `combine` folds them into one row.
 */
export async function measureRounds(targets: LoadTarget[], settings: BenchSettings, rounds: number): Promise<TargetResult[][]> {
  // Rounds last whole seconds (autocannon's unit): at most one round per measured second.
  rounds = Math.max(1, Math.min(rounds, Math.floor(settings.seconds)))
  const perRound = Math.max(1, Math.round(settings.seconds / rounds))
  const results: TargetResult[][] = targets.map(() => [])
  for (const target of targets) {
    if (settings.warmupSeconds > 0) {
      settings.log(`  ${target.name}: warm-up ${settings.warmupSeconds} s`)
      await fire(target, target.connections ?? settings.connections, settings.warmupSeconds)
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const [i, target] of targets.entries()) {
      // Only the first round is profiled (one profile file per target).
      const r = await measure(target, { ...settings, seconds: perRound, warmupSeconds: 0, cpuProfile: settings.cpuProfile && round === 0 })
      settings.log(
        `  round ${round + 1}/${rounds} ${target.name}: ${Math.round(r.requestsPerSecond).toLocaleString('en-US')} req/s, ${r.cpuMicrosPerRequest.toFixed(1)} µs CPU/request`,
      )
      results[i]!.push(r)
    }
  }
  return results
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** One row for a target measured in rounds: totals over all rounds, latency of the median round. */
export function combine(rounds: TargetResult[]): TargetResult & { rounds: number[] } {
  const seconds = rounds.reduce((s, r) => s + r.seconds, 0)
  const totalRequests = rounds.reduce((s, r) => s + r.totalRequests, 0)
  // From each round's server CPU, not CPU per request × requests: a round that completed no request
  // (a slow target, a short round) still spent CPU, and its per-request figure is NaN.
  const cpuMicros = rounds.reduce((s, r) => s + (r.serverCpuPercent / 100) * r.seconds * 1e6, 0)
  const byRps = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)
  const mid = byRps[byRps.length >> 1]!
  return {
    ...mid,
    seconds,
    totalRequests,
    requestsPerSecond: totalRequests / seconds,
    cpuMicrosPerRequest: cpuMicros / totalRequests,
    serverCpuPercent: median(rounds.map((r) => r.serverCpuPercent)),
    non2xx: rounds.reduce((s, r) => s + r.non2xx, 0),
    errors: rounds.reduce((s, r) => s + r.errors, 0),
    timeouts: rounds.reduce((s, r) => s + r.timeouts, 0),
    mismatches: rounds.reduce((s, r) => s + r.mismatches, 0),
    ...(rounds.find((r) => r.profile)?.profile ? { profile: rounds.find((r) => r.profile)!.profile! } : {}),
    rounds: rounds.map((r) => r.requestsPerSecond),
  }
}

/** The median over rounds of a per-round ratio (round i of `a` against round i of `b`). */
export function medianRatio(a: TargetResult[], b: TargetResult[], of: (r: TargetResult) => number): number {
  return median(a.map((r, i) => of(r) / of(b[i]!)))
}
