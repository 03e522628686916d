/**
 * Hot path: `POST /v1/auth/authorize` for a user who is already connected — the call an agent
 * makes before every tool call — against a bare `node:http` JSON route, each measured alone
 * with the same connections and duration. Goal: Latchkey ≥ 50 % of the bare route's throughput.
 * A one-route Fastify app is measured too, to split the gap into framework and Latchkey's work.
 */
import { startBare, startFastify } from '../lib/bare.js'
import type { ChildServer } from '../lib/child.js'
import { startConnectedLatchkey } from '../lib/latchkey.js'
import { type LoadTarget, measure } from '../lib/load.js'
import { type BenchSettings, defineScenario, type TargetResult } from '../lib/types.js'

const GOAL_RATIO = 0.5

async function measureChild<T>(settings: BenchSettings, start: () => Promise<ChildServer<T>>, target: (server: ChildServer<T>) => LoadTarget): Promise<TargetResult> {
  const server = await start()
  try {
    return await measure({ ...target(server), server: server as ChildServer<unknown> }, settings)
  } finally {
    await server.stop()
  }
}

export default defineScenario({
  name: 'hot-path',
  description: 'POST /v1/auth/authorize for a connected user vs a bare node:http JSON route',
  async run(settings) {
    settings.log('bare node:http server')
    const bare = await measureChild(settings, startBare, (s) => ({ name: 'bare', description: 'node:http, small JSON body', url: `${s.info.url}/` }))

    settings.log('one-route Fastify app')
    const fastify = await measureChild(settings, startFastify, (s) => ({
      name: 'fastify',
      description: 'Fastify defaults, POST route returning small JSON',
      url: `${s.info.url}/v1/auth/authorize`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'x', auth_requirement: { provider_id: 'test-idp', provider_type: 'oauth2', oauth2: { scopes: ['openid'] } } }),
    }))

    settings.log('Latchkey (SQLite file) with a user connected through the test IdP')
    const lk = await startConnectedLatchkey()
    let latchkey: TargetResult
    try {
      latchkey = await measure(
        {
          name: 'latchkey',
          description: 'POST /v1/auth/authorize, connected user → completed + token',
          ...lk.authorizeRequest(),
          verifyBody: (body) => body.includes('"status":"completed"'),
          server: lk.server as ChildServer<unknown>,
        },
        settings,
      )
    } finally {
      await lk.stop()
    }

    const targets = [bare, fastify, latchkey]
    const ratio = latchkey.requestsPerSecond / bare.requestsPerSecond
    const unhealthy = targets.filter((t) => t.non2xx + t.errors + t.timeouts + t.mismatches > 0)
    return {
      scenario: 'hot-path',
      description: this.description,
      targets,
      ratios: {
        'latchkey/bare': ratio,
        'fastify/bare': fastify.requestsPerSecond / bare.requestsPerSecond,
        'latchkey/fastify': latchkey.requestsPerSecond / fastify.requestsPerSecond,
        // Capacity if both were server-bound: bare's CPU cost per request over Latchkey's.
        'latchkey/bare (cpu per request)': bare.cpuMicrosPerRequest / latchkey.cpuMicrosPerRequest,
      },
      goals: [{ description: `hot path ≥ ${GOAL_RATIO * 100} % of bare throughput`, value: ratio, threshold: GOAL_RATIO, met: ratio >= GOAL_RATIO && unhealthy.length === 0 }],
      notes: [
        ...(bare.serverCpuPercent < 90
          ? [`the bare server used only ${bare.serverCpuPercent.toFixed(0)} % of a core: the load generator, not the server, limited its req/s, so the req/s ratio flatters Latchkey; the cpu-per-request ratio does not`]
          : []),
        ...unhealthy.map((t) => `${t.target}: ${t.non2xx} non-2xx, ${t.errors} errors, ${t.timeouts} timeouts, ${t.mismatches} unexpected bodies — its throughput is not trustworthy`),
      ],
    }
  },
})
