/**
 * Refresh on read, correctness: N (BENCH_REFRESH_ON_READ_READS, 100) concurrent reads of ONE due
 * token against `lib/token-endpoint.ts`, which rotates refresh tokens and accepts each exactly once
 * (like providers that detect refresh-token reuse). Counted per target: provider refresh calls,
 * refresh tokens presented a second time (each a rejected grant), failed reads, distinct tokens
 * handed out. Latchkey (its refresh lock) against better-auth 1.7 (`auth.api.getAccessToken`, on
 * SQLite, `encryptOAuthTokens`), both in their own process, the same request.
 * Goal (Latchkey only): exactly one provider call, no failed read, one token.
 */
import { startBetterAuth } from '../lib/better-auth.js'
import { startConnectedLatchkey } from '../lib/latchkey.js'
import { startTokenEndpoint } from '../lib/token-endpoint.js'
import { defineScenario, type TargetResult } from '../lib/types.js'
import { seed } from './refresh-throughput.js'

const PROVIDER = 'bench-local'

export default defineScenario({
  name: 'refresh-on-read',
  description: 'N concurrent reads of one due token, provider rotates refresh tokens: provider calls and failed reads',
  async run(settings) {
    const n = Number(process.env['BENCH_REFRESH_ON_READ_READS'] ?? 100)
    settings.log(`${n} concurrent reads of one due token: Latchkey, then better-auth (each its own token endpoint)`)
    const targets: TargetResult[] = []
    const notes: string[] = []
    const goals = []
    const fire = async (url: string, headers: Record<string, string>, user: string) => {
      const body = JSON.stringify({ auth_requirement: { provider_id: PROVIDER, provider_type: 'oauth2', oauth2: {} }, user_id: user })
      const t0 = performance.now()
      const answers = await Promise.all(
        Array.from({ length: n }, async () => {
          const r = await fetch(`${url}/v1/auth/authorize`, { method: 'POST', headers, body })
          const j = (await r.json()) as { status?: string; context?: { token?: string } }
          return r.status === 200 && j.status === 'completed' && j.context?.token ? j.context.token : undefined
        }),
      )
      const ms = performance.now() - t0
      return { ms, failed: answers.filter((a) => a === undefined).length, tokens: new Set(answers.filter(Boolean)).size }
    }
    const row = (name: string, description: string, r: { ms: number; failed: number; tokens: number }, calls: number, reused: number) => {
      targets.push({
        target: name,
        description,
        connections: n,
        seconds: r.ms / 1000,
        requestsPerSecond: n / (r.ms / 1000),
        totalRequests: n,
        latencyMs: { p50: 0, p90: 0, p99: 0, mean: 0, max: r.ms },
        cpuMicrosPerRequest: 0,
        serverCpuPercent: 0,
        non2xx: r.failed,
        errors: 0,
        timeouts: 0,
        mismatches: calls === 1 && r.failed === 0 && r.tokens === 1 ? 0 : 1,
      })
      notes.push(
        `${name}: ${n} concurrent reads → ${calls} provider refresh calls (${calls + reused} grants sent, ${reused} with an already-used refresh token), ${r.failed} failed reads, ${r.tokens} distinct tokens, ${r.ms.toFixed(0)} ms`,
      )
      return calls === 1 && r.failed === 0 && r.tokens === 1
    }

    {
      const endpoint = await startTokenEndpoint()
      const lk = await startConnectedLatchkey({ providers: [endpoint.entry(PROVIDER)] })
      try {
        const [user] = await seed(lk.databaseUrl, lk.encryptionKeys, lk.userId, 1, endpoint.issue, 'due')
        const r = await fire(lk.url, lk.authorizeRequest().headers, user!)
        const ok = row('latchkey', 'POST /v1/auth/authorize ×N at once, one due connection', r, endpoint.refreshes, endpoint.reused)
        goals.push({
          description: 'Latchkey: exactly one provider call, no failed read, one token',
          value: ok ? 1 : 0,
          threshold: 1,
          met: ok,
        })
      } finally {
        await lk.stop()
        await endpoint.close()
      }
    }
    {
      const endpoint = await startTokenEndpoint()
      const headers = { authorization: 'bench-key', 'content-type': 'application/json', accept: 'application/json' }
      const ba = await startBetterAuth(endpoint, {
        providerId: PROVIDER,
        apiKey: headers.authorization,
        userId: 'due-0@example.com',
        due: true,
      })
      try {
        const r = await fire(ba.info.url, headers, 'due-0@example.com')
        row('better-auth', 'auth.api.getAccessToken ×N at once (same request), one due account', r, endpoint.refreshes, endpoint.reused)
        const plain = (await ba.stats())['accessTokenPlaintextAtRest']
        notes.push(`better-auth: refreshed access token stored ${plain === 0 ? 'encrypted (encryptOAuthTokens)' : 'IN PLAINTEXT'}`)
      } finally {
        await ba.stop()
        await endpoint.close()
      }
    }
    notes.push('req/s column = reads per second over the burst; non-2xx = failed reads; max latency = the whole burst')
    return { scenario: 'refresh-on-read', description: this.description, targets, ratios: {}, goals, notes }
  },
})
