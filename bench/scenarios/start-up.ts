/**
 * Start-up: wall time from spawning `bin/latchkey.js serve` (a fresh SQLite file, so the
 * migrations run too) to the first `200` from `GET /v1/health/ready`, BENCH_STARTS (5) times.
 * With BENCH_BASELINE_DIST (another build's dist/, next to its bin/), that build is started in
 * alternating turns with this one, so a busy machine slows both alike. Goal: ≤ 1 s.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/helpers/ports.js'
import { latencyStats } from '../lib/latency.js'
import { defineScenario, type TargetResult } from '../lib/types.js'

const GOAL_MS = 1000
const KEY = Buffer.alloc(32, 7).toString('base64')

/** The process's user + system CPU so far (ms), from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1000
  } catch {
    return NaN
  }
}

async function startOnce(bin: string): Promise<{ ms: number; cpu: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-start-'))
  const port = await freePort()
  const t0 = performance.now()
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve'], {
    cwd: dir,
    env: {
      ...process.env,
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_PORT: String(port),
      LATCHKEY_DATABASE_URL: join(dir, 'latchkey.db'),
      LATCHKEY_ENCRYPTION_KEYS: `1:${KEY}`,
      LATCHKEY_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${bin} exited with code ${child.exitCode} before it was ready`)
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v1/health/ready`)
        await r.body?.cancel()
        if (r.status === 200) return { ms: performance.now() - t0, cpu: cpuMs(child.pid) }
      } catch {
        // Not listening yet.
      }
      if (performance.now() - t0 > 60_000) throw new Error(`${bin}: not ready within 60 s`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  } finally {
    child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
}

export default defineScenario({
  name: 'start-up',
  description: 'spawn → /v1/health/ready 200 on a fresh SQLite file',
  async run(settings) {
    const starts = Math.max(1, Number(process.env['BENCH_STARTS'] ?? 5))
    const baseline = process.env['BENCH_BASELINE_DIST']
    const bins: Array<[string, string]> = [['latchkey', fileURLToPath(new URL('../../bin/latchkey.js', import.meta.url))]]
    if (baseline) bins.push(['baseline', join(dirname(baseline), 'bin', 'latchkey.js')])
    const times = new Map<string, number[]>(bins.map(([name]) => [name, []]))
    const cpus = new Map<string, number[]>(bins.map(([name]) => [name, []]))
    for (let i = 0; i < starts; i++) {
      for (const [name, bin] of bins) {
        const { ms, cpu } = await startOnce(bin)
        times.get(name)!.push(ms)
        cpus.get(name)!.push(cpu)
        settings.log(`  start ${i + 1} ${name}: ${ms.toFixed(0)} ms, ${cpu.toFixed(0)} ms CPU`)
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    const targets: TargetResult[] = bins.map(([name]) => {
      const xs = times.get(name)!
      return {
        target: `${name} start-up`,
        description: 'spawn → ready (ms in the latency columns)',
        connections: 1,
        seconds: xs.reduce((a, b) => a + b, 0) / 1000,
        requestsPerSecond: NaN,
        totalRequests: xs.length,
        latencyMs: latencyStats(xs),
        cpuMicrosPerRequest: NaN,
        serverCpuPercent: NaN,
        non2xx: 0,
        errors: 0,
        timeouts: 0,
        mismatches: 0,
      }
    })
    const ours = median(times.get('latchkey')!)
    return {
      scenario: 'start-up',
      description: this.description,
      targets,
      ratios: baseline
        ? {
            'baseline/latchkey start-up time (medians)': median(times.get('baseline')!) / ours,
            'baseline/latchkey start-up CPU (medians)': median(cpus.get('baseline')!) / median(cpus.get('latchkey')!),
          }
        : {},
      goals: [
        {
          description: `start to ready ≤ ${GOAL_MS} ms (value: median / ${GOAL_MS} ms)`,
          value: ours / GOAL_MS,
          threshold: 1,
          met: ours <= GOAL_MS,
        },
      ],
      notes: bins.map(
        ([name]) =>
          `${name}: ${times
            .get(name)!
            .map((t) => t.toFixed(0))
            .join(', ')} ms`,
      ),
    }
  },
})
