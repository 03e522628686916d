/**
 * Starts Latchkey servers as real child processes (tsx), for tests that need several
 * processes on one database, or a process killed with SIGKILL mid-request.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface ServerProcess {
  url: string
  child: ChildProcess
  /** stderr lines (warnings and errors of that server). */
  stderr: string[]
  kill(signal?: NodeJS.Signals): Promise<void>
}

const entry = fileURLToPath(new URL('./server-process.ts', import.meta.url))

export async function startServerProcess(config: Record<string, unknown>, timeoutMs = 20_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, LATCHKEY_TEST_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stderr: string[] = []
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server process did not start in ${timeoutMs} ms:\n${stderr.join('')}`)), timeoutMs)
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /READY (\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server process exited with ${code}:\n${stderr.join('')}`))
    })
  })
  return {
    url,
    child,
    stderr,
    kill: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill(signal)
      }),
  }
}
