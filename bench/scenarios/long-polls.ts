/**
 * 10,000 concurrent `GET /v1/auth/status?wait=59` long-polls on one Latchkey process (a child
 * process, SQLite file), each on its own pending authorization. While they all wait, M of the
 * users finish consent at a real OAuth server and their callbacks land; we measure, per
 * callback, the time from sending the callback to the waiting long-poll's response (this
 * includes the code exchange with the provider), and the server's resident memory before and
 * with all long-polls open. BENCH_LONGPOLLS (default 10000), BENCH_LONGPOLL_CALLBACKS (200).
 */
import { Agent, get } from 'node:http'
import { TestBrowser } from '../../test/helpers/browser.js'
import { startConnectedLatchkey } from '../lib/latchkey.js'
import { latencyStats } from '../lib/latency.js'
import { defineScenario } from '../lib/types.js'

const GOAL_MIB = 64

/** One GET over its own socket (global fetch pools and queues; 10,000 parked requests need 10,000 sockets). */
function getJson(url: string, headers: Record<string, string>, agent: Agent): Promise<{ status: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers, agent, timeout: 120_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { status: string })
        } catch (err) {
          reject(err as Error)
        }
      })
    }).on('error', reject)
  })
}

async function rssMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const m = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)/m.exec(text)
  return m ? Number(m[1]) / 2 ** 20 : NaN
}

export default defineScenario({
  name: 'long-polls',
  description: '10,000 concurrent status long-polls on one process: memory and callback → response wake-up latency',
  async run(settings) {
    const polls = Number(process.env['BENCH_LONGPOLLS'] ?? 10_000)
    const callbacks = Math.min(polls, Number(process.env['BENCH_LONGPOLL_CALLBACKS'] ?? 200))
    const lk = await startConnectedLatchkey({ env: { LATCHKEY_FLOW_TTL_SECONDS: '900' } })
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
    const headers = { authorization: lk.runtimeKey, 'content-type': 'application/json' }
    try {
      settings.log(`  creating ${polls} pending authorizations`)
      const flows: Array<{ id: string; url: string; user: string }> = []
      for (let i = 0; i < polls; i += 100) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(100, polls - i) }, async (_, j) => {
            const user = `poll-${i + j}`
            const r = await fetch(`${lk.url}/v1/auth/authorize`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ user_id: user, auth_requirement: { provider_id: lk.providerId, oauth2: { scopes: ['openid'] } } }),
            })
            const body = (await r.json()) as { id: string; url: string }
            return { id: body.id, url: body.url, user }
          }),
        )
        flows.push(...batch)
      }
      settings.log(`  walking ${callbacks} users through consent up to the callback`)
      const ready: Array<{ flow: (typeof flows)[number]; browser: TestBrowser; callback: string }> = []
      for (let i = 0; i < callbacks; i += 10) {
        ready.push(
          ...(await Promise.all(
            flows.slice(i, i + 10).map(async (flow) => {
              const browser = new TestBrowser()
              const step = await browser.authorize(flow.url, { login: flow.user, stopAt: (u) => u.pathname === '/oauth/callback' })
              return { flow, browser, callback: step.location! }
            }),
          )),
        )
      }
      const before = await lk.server.stats()
      const rssBefore = await rssMb(lk.url)
      settings.log(`  opening ${polls} long-polls (wait=59)`)
      const answered = new Map<string, number>()
      const pending = flows.map((f) =>
        getJson(`${lk.url}/v1/auth/status?id=${f.id}&wait=59`, { authorization: lk.runtimeKey }, agent)
          .then((body) => {
            answered.set(f.id, performance.now())
            return body.status
          })
          .catch(() => 'error'),
      )
      // Let every long-poll reach the server and park.
      const deadline = Date.now() + 30_000
      for (;;) {
        const m = await (await fetch(`${lk.url}/metrics`)).text()
        const open = Number(/^latchkey_status_waiters (\d+)/m.exec(m)?.[1] ?? 0)
        if (open >= polls || Date.now() > deadline) {
          settings.log(`  ${open} long-polls parked on the server`)
          break
        }
        await new Promise((r) => setTimeout(r, 250))
      }
      const withPolls = await lk.server.stats()
      const rssWith = await rssMb(lk.url)
      const mib = (k: string) => ((withPolls[k] ?? NaN) - (before[k] ?? NaN)) / 2 ** 20
      const rssAbove = mib('rss')
      settings.log(`  landing ${callbacks} callbacks (10 at a time)`)
      const latencies: number[] = []
      for (let i = 0; i < ready.length; i += 10) {
        await Promise.all(
          ready.slice(i, i + 10).map(async ({ flow, browser, callback }) => {
            const sent = performance.now()
            await browser.request(callback)
            for (let k = 0; k < 200 && !answered.has(flow.id); k++) await new Promise((r) => setTimeout(r, 1))
            const at = answered.get(flow.id)
            if (at !== undefined) latencies.push(at - sent)
          }),
        )
      }
      const early = flows.slice(callbacks).filter((f) => answered.has(f.id)).length
      const wake = latencyStats(latencies)
      // Release the rest: close the server (long-polls answer with their current state).
      await lk.stop()
      await Promise.allSettled(pending)
      const ok = latencies.length === callbacks && early === 0
      const memoryOk = rssAbove <= GOAL_MIB
      return {
        scenario: 'long-polls',
        description: this.description,
        targets: [
          {
            target: 'wake-up',
            description: `${callbacks} callbacks while ${polls} long-polls wait`,
            connections: polls,
            seconds: NaN,
            requestsPerSecond: NaN,
            totalRequests: callbacks,
            latencyMs: wake,
            cpuMicrosPerRequest: NaN,
            serverCpuPercent: NaN,
            non2xx: 0,
            errors: callbacks - latencies.length,
            timeouts: 0,
            mismatches: early,
          },
        ],
        ratios: {},
        goals: [
          { description: 'every callback woke exactly its own long-poll', value: ok ? 1 : 0, threshold: 1, met: ok },
          {
            description: `${polls} long-polls cost ≤ ${GOAL_MIB} MiB RSS above the idle process (value: MiB / ${GOAL_MIB})`,
            value: rssAbove / GOAL_MIB,
            threshold: 1,
            met: memoryOk,
          },
        ],
        notes: [
          `after a full GC: RSS +${rssAbove.toFixed(1)} MiB, JS heap +${mib('heapUsed').toFixed(1)} MiB, external +${mib('external').toFixed(1)} MiB with ${polls} long-polls open (${((rssAbove * 1024) / polls).toFixed(1)} KiB RSS, ${((mib('heapUsed') * 1024) / polls).toFixed(2)} KiB heap per long-poll)`,
          `server RSS: ${rssBefore.toFixed(0)} MiB before, ${rssWith.toFixed(0)} MiB with ${polls} long-polls open (${(((rssWith - rssBefore) * 1024) / polls).toFixed(1)} KiB per long-poll)`,
          `wake-up latency = from sending the callback (which exchanges the code with the provider) to the waiting long-poll's response: p50 ${wake.p50.toFixed(1)} ms, p99 ${wake.p99.toFixed(1)} ms`,
          `${early} long-polls of other users answered early (must be 0)`,
        ],
      }
    } finally {
      agent.destroy()
      await lk.stop().catch(() => {})
    }
  },
})
