/**
 * Hot path: `POST /v1/auth/authorize` for a user who is already connected — the call an agent
 * makes before every tool call — against a bare `node:http` JSON route. All targets receive the
 * byte-identical request (method, path, headers with the API key, JSON body) over the same
 * number of connections, and are measured in alternating rounds so a slow spell of a shared
 * machine hits each alike. Goal: Latchkey ≥ 70 % of the bare route by CPU per request (the
 * capacity ratio if both were server-bound; req/s on a shared 2-core machine is often limited by
 * the load generator or a neighbour).
 * A one-route Fastify app is measured too, to split the gap into framework and Latchkey's work.
 * With BENCH_BASELINE_DIST (another build's dist/), that build runs as a fourth target in the same
 * alternating rounds (a before/after ratio on a busy machine); the better-auth peer row is then left out.
 */
import { startBare, startFastify } from '../lib/bare.js'
import { startBetterAuth } from '../lib/better-auth.js'
import type { ChildServer } from '../lib/child.js'
import { startConnectedLatchkey } from '../lib/latchkey.js'
import { combine, measureRounds, medianRatio } from '../lib/load.js'
import { startTokenEndpoint } from '../lib/token-endpoint.js'
import { defineScenario } from '../lib/types.js'

const GOAL_RATIO = 0.7

export default defineScenario({
  name: 'hot-path',
  description: 'POST /v1/auth/authorize for a connected user vs a bare node:http JSON route (same request)',
  async run(settings) {
    settings.log('Latchkey (SQLite file) with a user connected through the test IdP; bare node:http; one-route Fastify')
    const baselineDist = process.env['BENCH_BASELINE_DIST']
    const lk = await startConnectedLatchkey()
    const servers: Array<ChildServer<unknown>> = []
    const endpoint = await startTokenEndpoint()
    let baseline: Awaited<ReturnType<typeof startConnectedLatchkey>> | undefined
    try {
      const bare = await startBare()
      servers.push(bare as ChildServer<unknown>)
      const fastify = await startFastify()
      servers.push(fastify as ChildServer<unknown>)
      const request = lk.authorizeRequest()
      const path = new URL(request.url).pathname
      const lkTarget = {
        name: 'latchkey',
        description: 'POST /v1/auth/authorize, connected user → completed + token',
        ...request,
        verifyBody: (body: string) => body.includes('"status":"completed"'),
        server: lk.server as ChildServer<unknown>,
      }
      const common = [
        {
          name: 'bare',
          description: 'node:http: reads the body, answers a small JSON',
          ...request,
          url: `${bare.info.url}${path}`,
          server: bare as ChildServer<unknown>,
        },
        {
          name: 'fastify',
          description: 'Fastify defaults, one POST route parsing the body and returning small JSON',
          ...request,
          url: `${fastify.info.url}${path}`,
          server: fastify as ChildServer<unknown>,
        },
        lkTarget,
      ]
      let peer: (typeof common)[number]
      if (baselineDist) {
        settings.log(`  baseline build: ${baselineDist}`)
        baseline = await startConnectedLatchkey({ dist: baselineDist })
        const b = baseline.authorizeRequest()
        peer = {
          name: 'baseline',
          description: `the same request to the build in ${baselineDist}`,
          ...b,
          verifyBody: lkTarget.verifyBody,
          server: baseline.server as ChildServer<unknown>,
        }
      } else {
        // Peer row: better-auth answering the same request with auth.api.getAccessToken (token not due).
        const userId = (JSON.parse(request.body) as { user_id: string }).user_id
        const betterAuth = await startBetterAuth(endpoint, {
          providerId: 'bench-local',
          apiKey: request.headers['authorization']!,
          userId,
          due: false,
        })
        servers.push(betterAuth as ChildServer<unknown>)
        peer = {
          name: 'better-auth',
          description: 'better-auth 1.7 on SQLite, encrypted tokens: auth.api.getAccessToken behind the same key check',
          ...request,
          url: `${betterAuth.info.url}${path}`,
          verifyBody: lkTarget.verifyBody,
          server: betterAuth as ChildServer<unknown>,
        }
      }
      const [bareRounds, fastifyRounds, latchkeyRounds, peerRounds] = await measureRounds([...common, peer], settings, settings.rounds)
      const targets = [combine(bareRounds!), combine(fastifyRounds!), combine(latchkeyRounds!), combine(peerRounds!)]
      type Row = ReturnType<typeof combine>
      const [b, f, l, p] = targets as [Row, Row, Row, Row]
      const rps = (r: { requestsPerSecond: number }) => r.requestsPerSecond
      const ratio = l.requestsPerSecond / b.requestsPerSecond
      const cpuRatio = b.cpuMicrosPerRequest / l.cpuMicrosPerRequest
      const perRound = latchkeyRounds!.map((r, i) => rps(r) / rps(bareRounds![i]!))
      const unhealthy = targets.filter((t) => t.non2xx + t.errors + t.timeouts + t.mismatches > 0)
      return {
        scenario: 'hot-path',
        description: this.description,
        targets,
        ratios: {
          'latchkey/bare': ratio,
          'latchkey/bare (median of rounds)': medianRatio(latchkeyRounds!, bareRounds!, rps),
          'fastify/bare': f.requestsPerSecond / b.requestsPerSecond,
          'latchkey/fastify': l.requestsPerSecond / f.requestsPerSecond,
          // Capacity if both were server-bound: bare's CPU cost per request over Latchkey's.
          'latchkey/bare (cpu per request)': cpuRatio,
          [`${p.target}/bare`]: p.requestsPerSecond / b.requestsPerSecond,
          [`${p.target}/bare (cpu per request)`]: b.cpuMicrosPerRequest / p.cpuMicrosPerRequest,
          [`latchkey/${p.target} (cpu per request)`]: p.cpuMicrosPerRequest / l.cpuMicrosPerRequest,
        },
        goals: [
          {
            description: `hot path ≥ ${GOAL_RATIO * 100} % of bare by CPU per request`,
            value: cpuRatio,
            threshold: GOAL_RATIO,
            met: cpuRatio >= GOAL_RATIO && unhealthy.length === 0,
          },
        ],
        notes: [
          `latchkey/bare by round: ${perRound.map((x) => `${(x * 100).toFixed(1)} %`).join(', ')}`,
          ...(b.serverCpuPercent < 90
            ? [
                `the bare server used only ${b.serverCpuPercent.toFixed(0)} % of a core: the load generator, not the server, limited its req/s, so the req/s ratio flatters Latchkey; the cpu-per-request ratio does not`,
              ]
            : []),
          ...unhealthy.map(
            (t) =>
              `${t.target}: ${t.non2xx} non-2xx, ${t.errors} errors, ${t.timeouts} timeouts, ${t.mismatches} unexpected bodies — its throughput is not trustworthy`,
          ),
        ],
      }
    } finally {
      for (const s of servers) await s.stop()
      await baseline?.stop()
      await lk.stop()
      await endpoint.close()
    }
  },
})
