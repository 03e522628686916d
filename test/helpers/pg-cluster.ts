/**
 * A throw-away PostgreSQL cluster of the test's own, for fault tests that stop and start the
 * database (never the shared server on 5432). `initdb` into a temporary directory, trust auth,
 * its own port (below 32768, see `freePort`) and its own socket directory.
 *
 * API:
 * - `startPgCluster()`: initialises and starts a cluster; `url` names its `postgres` database.
 * - `stop()`: `pg_ctl stop -m fast` (open sessions are terminated with 57P01, "terminating
 *   connection due to administrator command", then connections are refused).
 * - `start()`: starts it again on the same port and data.
 * - `destroy()`: stops it and removes its directory. Safe to call twice.
 *
 * Needs PostgreSQL's server binaries (Debian: postgresql-15, `/usr/lib/postgresql/15/bin`; set
 * `LATCHKEY_TEST_PG_BIN` for another location). `pgClusterAvailable()` says whether they are there.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './ports.js'

const run = promisify(execFile)
const bin = process.env['LATCHKEY_TEST_PG_BIN'] || '/usr/lib/postgresql/15/bin'

export interface PgCluster {
  url: string
  port: number
  dir: string
  stop(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

export function pgClusterAvailable(): boolean {
  return existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))
}

/** initdb and pg_ctl refuse to run as root: run them as the `postgres` user then. */
async function pg(tool: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0
  if (asRoot) await run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
  else await run(join(bin, tool), args)
}

export async function startPgCluster(): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-pg-'))
  const data = join(dir, 'data')
  if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', dir])
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`
  let running = false
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start'])
    running = true
  }
  const stop = async () => {
    await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
    running = false
  }
  await start()
  let destroyed = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start,
    stop,
    async destroy() {
      if (destroyed) return
      destroyed = true
      if (running) await stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
