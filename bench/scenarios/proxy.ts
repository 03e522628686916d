/**
 * Proxy: `GET /v1/proxy/test-idp/<path>` for a connected user (Latchkey selects the connection,
 * adds the token, forwards through the outbound guard and streams the answer back) against
 * calling the same local upstream directly — the bare `node:http` JSON server, the same request
 * path — over BENCH_PROXY_CONNECTIONS (default 10) connections, in alternating rounds (direct,
 * proxy, direct, …). Also in the same rounds: `node proxy` (bench/servers/bare-proxy.ts, node:http
 * forwarding with undici and nothing else), the floor any Node.js proxy pays; and, with
 * BENCH_BASELINE_DIST (another build's dist/), that build proxying to the same upstream.
 *
 * Two phases. The goals (issue 14: the proxy adds ≤ 1 ms at p50 and ≤ 5 ms at p99, the median
 * over rounds of proxy − direct) are about what the proxy adds to one call, so they are taken at
 * a fixed rate (BENCH_PROXY_RATE, default 1,000 requests/s over the connections) that no target
 * saturates: what is measured is the time a request spends in the proxy. Then every target runs
 * as fast as it is answered (closed loop): there each of the connections' requests waits for the
 * others on the server's core, so the latency added is the proxy's CPU per request times the
 * requests in flight — a capacity figure, printed beside the CPU per request against the floor.
 */
import { fileURLToPath } from 'node:url'
import { startBare } from '../lib/bare.js'
import { type ChildServer, forkServer } from '../lib/child.js'
import { startConnectedLatchkey } from '../lib/latchkey.js'
import { combine, type LoadTarget, measureRounds, medianRatio } from '../lib/load.js'
import { defineScenario, type TargetResult } from '../lib/types.js'
import type { BareProxyArgs, BareProxyInfo } from '../servers/bare-proxy.js'

const P50_GOAL_MS = 1
const P99_GOAL_MS = 5

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

export default defineScenario({
  name: 'proxy',
  description: 'GET through /v1/proxy/<provider>/… vs the same GET straight to the local upstream',
  async run(settings) {
    const connections = Number(process.env['BENCH_PROXY_CONNECTIONS'] ?? 10)
    const rate = Number(process.env['BENCH_PROXY_RATE'] ?? 1000)
    settings.log(`bare node:http upstream; Latchkey (SQLite file) with a user connected, proxying to it; ${connections} connections`)
    const upstream = await startBare()
    const servers: Array<ChildServer<unknown>> = [upstream as ChildServer<unknown>]
    try {
      const args: BareProxyArgs = { upstream: upstream.info.url }
      const floor = await forkServer<BareProxyInfo>(fileURLToPath(new URL('../servers/bare-proxy.ts', import.meta.url)), { args })
      servers.push(floor as ChildServer<unknown>)
      const baseline = process.env['BENCH_BASELINE_DIST']
      const lk = await startConnectedLatchkey({ apiBaseUrls: [upstream.info.url] })
      const before = baseline ? await startConnectedLatchkey({ apiBaseUrls: [upstream.info.url], dist: baseline }) : undefined
      try {
        const path = '/repos/octo/hello/issues'
        const targetsAt = (at: number | undefined): LoadTarget[] => [
          {
            name: 'direct',
            description: 'GET straight to the upstream (what an agent holding the token would do)',
            url: `${upstream.info.url}${path}`,
            headers: { authorization: `Bearer ${lk.token}`, accept: 'application/json' },
            connections,
            ...(at ? { rate: at } : {}),
            server: upstream as ChildServer<unknown>,
          },
          {
            name: 'proxy',
            description: 'GET /v1/proxy/test-idp/… with the Latchkey key and Latchkey-User-Id',
            url: `${lk.url}/v1/proxy/test-idp${path}`,
            headers: { authorization: lk.runtimeKey, 'latchkey-user-id': lk.userId, accept: 'application/json' },
            verifyBody: (body) => body.includes('"healthy":true'),
            connections,
            ...(at ? { rate: at } : {}),
            server: lk.server as ChildServer<unknown>,
          },
          {
            name: 'node proxy',
            description: 'the same GET through a bare node:http server forwarding with undici (bench/servers/bare-proxy.ts): the floor',
            url: `${floor.info.url}${path}`,
            headers: { accept: 'application/json' },
            verifyBody: (body) => body.includes('"healthy":true'),
            connections,
            ...(at ? { rate: at } : {}),
            server: floor as ChildServer<unknown>,
          },
          ...(before
            ? [
                {
                  name: 'baseline',
                  description: `the same proxied GET on the build in ${baseline}`,
                  url: `${before.url}/v1/proxy/test-idp${path}`,
                  headers: { authorization: before.runtimeKey, 'latchkey-user-id': before.userId, accept: 'application/json' },
                  verifyBody: (body: string) => body.includes('"healthy":true'),
                  connections,
                  ...(at ? { rate: at } : {}),
                  server: before.server as ChildServer<unknown>,
                },
              ]
            : []),
        ]
        settings.log(`  at ${rate.toLocaleString('en-US')} requests/s (the goals)`)
        const [directRounds, proxyRounds, floorRounds, baselineRounds] = await measureRounds(targetsAt(rate), settings, settings.rounds)
        settings.log('  as fast as answered (capacity)')
        const [directFull, proxyFull, floorFull] = await measureRounds(targetsAt(undefined).slice(0, 3), settings, settings.rounds)
        const targets = [
          combine(directRounds!),
          combine(proxyRounds!),
          combine(floorRounds!),
          ...(baselineRounds ? [combine(baselineRounds)] : []),
        ]
        const addedBy = (rounds: TargetResult[], direct: TargetResult[], q: 'p50' | 'p99') =>
          median(rounds.map((r, i) => r.latencyMs[q] - direct[i]!.latencyMs[q]))
        const added = (q: 'p50' | 'p99') => addedBy(proxyRounds!, directRounds!, q)
        const p50 = added('p50')
        const p99 = added('p99')
        const unhealthy = targets.filter((t) => t.non2xx + t.errors + t.timeouts + t.mismatches > 0)
        return {
          scenario: 'proxy',
          description: this.description,
          targets,
          ratios: {
            'proxy/direct (req/s)': targets[1]!.requestsPerSecond / targets[0]!.requestsPerSecond,
            'added p50 ms (median of rounds)': p50,
            'added p99 ms (median of rounds)': p99,
            'as fast as answered: proxy/direct (req/s)': combine(proxyFull!).requestsPerSecond / combine(directFull!).requestsPerSecond,
            'as fast as answered: added p50 ms': addedBy(proxyFull!, directFull!, 'p50'),
            'as fast as answered: added p99 ms': addedBy(proxyFull!, directFull!, 'p99'),
            'as fast as answered: node proxy added p50 ms': addedBy(floorFull!, directFull!, 'p50'),
            'as fast as answered: node proxy added p99 ms': addedBy(floorFull!, directFull!, 'p99'),
            'as fast as answered: CPU per request, proxy / node proxy': medianRatio(proxyFull!, floorFull!, (r) => r.cpuMicrosPerRequest),
            ...(baselineRounds
              ? {
                  'CPU per request, this build / baseline (median of rounds)': medianRatio(
                    proxyRounds!,
                    baselineRounds,
                    (r) => r.cpuMicrosPerRequest,
                  ),
                }
              : {}),
          },
          goals: [
            {
              description: `proxy adds ≤ ${P50_GOAL_MS} ms at p50 (${rate.toLocaleString('en-US')} requests/s)`,
              value: p50,
              threshold: P50_GOAL_MS,
              met: p50 <= P50_GOAL_MS && unhealthy.length === 0,
              unit: 'ms',
            },
            {
              description: `proxy adds ≤ ${P99_GOAL_MS} ms at p99 (${rate.toLocaleString('en-US')} requests/s)`,
              value: p99,
              threshold: P99_GOAL_MS,
              met: p99 <= P99_GOAL_MS && unhealthy.length === 0,
              unit: 'ms',
            },
          ],
          notes: [
            `added p50 by round (ms): ${proxyRounds!.map((r, i) => (r.latencyMs.p50 - directRounds![i]!.latencyMs.p50).toFixed(2)).join(', ')}`,
            `added p99 by round (ms): ${proxyRounds!.map((r, i) => (r.latencyMs.p99 - directRounds![i]!.latencyMs.p99).toFixed(2)).join(', ')}`,
            `node proxy (the floor) added p50 by round (ms): ${floorRounds!.map((r, i) => (r.latencyMs.p50 - directRounds![i]!.latencyMs.p50).toFixed(2)).join(', ')}`,
            `node proxy (the floor) added p99 by round (ms): ${floorRounds!.map((r, i) => (r.latencyMs.p99 - directRounds![i]!.latencyMs.p99).toFixed(2)).join(', ')}`,
            `CPU per request, proxy / node proxy (median of rounds): ${medianRatio(proxyRounds!, floorRounds!, (r) => r.cpuMicrosPerRequest).toFixed(2)}`,
            ...(baselineRounds
              ? [
                  `baseline added p50 by round (ms): ${baselineRounds.map((r, i) => (r.latencyMs.p50 - directRounds![i]!.latencyMs.p50).toFixed(2)).join(', ')}`,
                  `baseline added p99 by round (ms): ${baselineRounds.map((r, i) => (r.latencyMs.p99 - directRounds![i]!.latencyMs.p99).toFixed(2)).join(', ')}`,
                ]
              : []),
            ...unhealthy.map(
              (t) => `${t.target}: ${t.non2xx} non-2xx, ${t.errors} errors, ${t.timeouts} timeouts, ${t.mismatches} unexpected bodies`,
            ),
          ],
        }
      } finally {
        await lk.stop()
        await before?.stop()
      }
    } finally {
      for (const s of servers) await s.stop()
    }
  },
})
