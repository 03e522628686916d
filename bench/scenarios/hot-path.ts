/**
 * Hot path: `POST /v1/auth/authorize` for a user who is already connected — the call an agent
 * makes before every tool call — against a bare `node:http` JSON route. All targets receive the
 * byte-identical request (method, path, headers with the API key, JSON body) over the same
 * number of connections, and are measured in alternating rounds so a slow spell of a shared
 * machine hits each alike. Goal: Latchkey ≥ 70 % of the bare route by CPU per request (the
 * capacity ratio if both were server-bound; req/s on a shared 2-core machine is often limited by
 * the load generator or a neighbour).
 * A one-route Fastify app is measured too, to split the gap into framework and Latchkey's work.
 */
import { startBare, startFastify } from '../lib/bare.js'
import type { ChildServer } from '../lib/child.js'
import { startConnectedLatchkey } from '../lib/latchkey.js'
import { combine, measureRounds, medianRatio } from '../lib/load.js'
import { defineScenario } from '../lib/types.js'

const GOAL_RATIO = 0.7

export default defineScenario({
  name: 'hot-path',
  description: 'POST /v1/auth/authorize for a connected user vs a bare node:http JSON route (same request)',
  async run(settings) {
    settings.log('Latchkey (SQLite file) with a user connected through the test IdP; bare node:http; one-route Fastify')
    const lk = await startConnectedLatchkey()
    const servers: Array<ChildServer<unknown>> = []
    try {
      const bare = await startBare()
      servers.push(bare as ChildServer<unknown>)
      const fastify = await startFastify()
      servers.push(fastify as ChildServer<unknown>)
      const request = lk.authorizeRequest()
      const path = new URL(request.url).pathname
      const [bareRounds, fastifyRounds, latchkeyRounds] = await measureRounds(
        [
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
          {
            name: 'latchkey',
            description: 'POST /v1/auth/authorize, connected user → completed + token',
            ...request,
            verifyBody: (body) => body.includes('"status":"completed"'),
            server: lk.server as ChildServer<unknown>,
          },
        ],
        settings,
        settings.rounds,
      )
      const targets = [combine(bareRounds!), combine(fastifyRounds!), combine(latchkeyRounds!)]
      const [b, f, l] = targets as [ReturnType<typeof combine>, ReturnType<typeof combine>, ReturnType<typeof combine>]
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
      await lk.stop()
    }
  },
})
