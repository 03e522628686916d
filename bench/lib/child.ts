/**
 * Servers under test run in their own processes (forked with tsx), so the load generator in the
 * parent never competes with them for an event loop. Parent and child talk over IPC:
 * child → `{ type: 'ready', info }` or `{ type: 'failed', message }`; parent → `{ type: 'stop' }`,
 * after which the child closes cleanly and exits. `profile-start` / `profile-stop` run the V8
 * sampling profiler in the child over exactly the window the parent chooses (the measured run,
 * not start-up or warm-up).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { dirname } from 'node:path'

type FromChild<T> =
  | { type: 'ready'; info: T }
  | { type: 'failed'; message: string }
  | { type: 'profiling'; error?: string }
  | { type: 'cpu'; seq: number; usage: NodeJS.CpuUsage; stats?: Record<string, number> }
  | { type: 'profiled'; file: string; error?: string }
type ToChild =
  | { type: 'stop' }
  | { type: 'cpu'; seq: number; stats?: boolean }
  | { type: 'profile-start'; intervalUs: number }
  | { type: 'profile-stop'; file: string }

export interface ChildServer<T> {
  info: T
  pid: number
  /** The child's `process.cpuUsage()` (user + system µs since it started). */
  cpuUsage(): Promise<NodeJS.CpuUsage>
  /** Counters the server reports (`stats` given to `serveChild`), e.g. connection-cache misses. */
  stats(): Promise<Record<string, number>>
  /** Starts the V8 sampling profiler in the child (through `node:inspector`). */
  startProfile(intervalUs?: number): Promise<void>
  /** Stops it and writes the `.cpuprofile` to `file`; resolves with the path. */
  stopProfile(file: string): Promise<string>
  stop(): Promise<void>
}

export interface ForkOptions {
  /** JSON-serializable arguments for the child (read with `childArgs()`). */
  args?: unknown
  readyTimeoutMs?: number
  /** Extra environment for the child. */
  env?: Record<string, string>
}

let serverCpu: number | undefined

/**
 * Pins every server forked from now on (all its threads) to one CPU, as `bench/run.ts` pins the
 * load generator to another: on a small machine the scheduler otherwise moves the two around and
 * onto each other, the largest source of run-to-run variance measured here (Linux `taskset`).
 */
export function pinServersTo(cpu: number | undefined): void {
  serverCpu = cpu
}

export async function forkServer<T>(entry: string, options: ForkOptions = {}): Promise<ChildServer<T>> {
  const child: ChildProcess = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...options.env, BENCH_CHILD_ARGS: JSON.stringify(options.args ?? {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const info = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${entry}: not ready within ${options.readyTimeoutMs ?? 30_000} ms`))
    }, options.readyTimeoutMs ?? 30_000)
    child.on('message', (m: FromChild<T>) => {
      if (m.type === 'ready') {
        clearTimeout(timer)
        resolve(m.info)
      } else if (m.type === 'failed') {
        clearTimeout(timer)
        reject(new Error(`${entry}: ${m.message}`))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${entry}: exited before it was ready (code ${code}, signal ${signal})`))
    })
  })
  if (serverCpu !== undefined) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', String(serverCpu), String(child.pid)], { stdio: 'ignore' })
    } catch (err) {
      child.kill('SIGKILL')
      throw new Error(`could not pin ${entry} to CPU ${serverCpu} (BENCH_PIN=0 turns pinning off): ${(err as Error).message}`)
    }
  }
  let stopping: Promise<void> | undefined
  const send = (m: ToChild) => child.send(m)
  let seq = 0
  // Stats only when asked for: a server's stats may run a full GC (long-polls' heap figures),
  // whose CPU must not land in the measured window that a cpuUsage() probe opens.
  const ask = (withStats: boolean) => {
    const mine = ++seq
    return new Promise<Extract<FromChild<T>, { type: 'cpu' }>>((resolve) => {
      const onMessage = (m: FromChild<T>) => {
        if (m.type !== 'cpu' || m.seq !== mine) return
        child.off('message', onMessage)
        resolve(m)
      }
      child.on('message', onMessage)
      send({ type: 'cpu', seq: mine, stats: withStats })
    })
  }
  return {
    info,
    pid: child.pid!,
    cpuUsage() {
      return ask(false).then((m) => m.usage)
    },
    stats() {
      return ask(true).then((m) => m.stats ?? {})
    },
    startProfile(intervalUs = 250) {
      return new Promise((resolve, reject) => {
        const onMessage = (m: FromChild<T>) => {
          if (m.type !== 'profiling') return
          child.off('message', onMessage)
          if (m.error) reject(new Error(m.error))
          else resolve()
        }
        child.on('message', onMessage)
        send({ type: 'profile-start', intervalUs })
      })
    },
    stopProfile(file) {
      return new Promise((resolve, reject) => {
        const onMessage = (m: FromChild<T>) => {
          if (m.type !== 'profiled' || m.file !== file) return
          child.off('message', onMessage)
          if (m.error) reject(new Error(m.error))
          else resolve(file)
        }
        child.on('message', onMessage)
        send({ type: 'profile-stop', file })
      })
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return
        send({ type: 'stop' })
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      })()
      return stopping
    },
  }
}

/** In a child: the arguments the parent passed to `forkServer`. */
export function childArgs<A>(): A {
  return JSON.parse(process.env['BENCH_CHILD_ARGS'] ?? '{}') as A
}

/**
 * In a child: start the server, report ready (or the failure), and close and exit when the
 * parent says stop or goes away.
 */
export function serveChild<T>(start: () => Promise<{ info: T; close(): Promise<void>; stats?: () => Record<string, number> }>): void {
  const send = (m: FromChild<T>) => process.send?.(m)
  start().then(
    ({ info, close, stats }) => {
      let closing = false
      const shutdown = () => {
        if (closing) return
        closing = true
        close()
          .catch((err: unknown) => console.error('close failed:', err))
          .finally(() => process.exit(0))
      }
      let session: Session | undefined
      process.on('message', (m: ToChild) => {
        if (m?.type === 'stop') shutdown()
        else if (m?.type === 'cpu')
          send({ type: 'cpu', seq: m.seq, usage: process.cpuUsage(), ...(stats && m.stats ? { stats: stats() } : {}) })
        else if (m?.type === 'profile-start') {
          const s = new Session()
          session = s
          s.connect()
          s.post('Profiler.enable')
            .then(() => s.post('Profiler.setSamplingInterval', { interval: m.intervalUs }))
            .then(() => s.post('Profiler.start'))
            .then(
              () => send({ type: 'profiling' }),
              (err: unknown) => send({ type: 'profiling', error: String(err) }),
            )
        } else if (m?.type === 'profile-stop') {
          const s = session
          session = undefined
          if (!s) {
            send({ type: 'profiled', file: m.file, error: 'the profiler was not started' })
            return
          }
          s.post('Profiler.stop').then(
            ({ profile }) => {
              mkdirSync(dirname(m.file), { recursive: true })
              writeFileSync(m.file, JSON.stringify(profile))
              s.disconnect()
              send({ type: 'profiled', file: m.file })
            },
            (err: unknown) => send({ type: 'profiled', file: m.file, error: String(err) }),
          )
        }
      })
      process.on('disconnect', shutdown)
      send({ type: 'ready', info })
    },
    (err: unknown) => {
      send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
      process.exit(1)
    },
  )
}
