/**
 * SQLite never freezes the process. A second process (as the CLI would be, next to a running
 * server) holds a write transaction on the database file for 2 s. Meanwhile the server's event
 * loop keeps turning (measured with `perf_hooks.monitorEventLoopDelay` in this process, which is
 * the server): `/metrics` and liveness answer, a write waits asynchronously and completes once
 * the lock is released. With better-sqlite3's busy timeout, the write spun inside the call and
 * every request of the process stalled until the other writer let go.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/latchkey.js'

/** Holds BEGIN IMMEDIATE (the write lock) on `file` for `ms`, printing LOCKED once it has it. */
const holder = `
const Database = require('better-sqlite3')
const db = new Database(process.argv[1])
db.exec('begin immediate')
db.prepare("insert into latchkey_meta (key, value) values ('held-by-other-process', 'x')").run()
process.stdout.write('LOCKED\\n')
setTimeout(() => { db.exec('commit'); db.close(); process.stdout.write('RELEASED\\n') }, Number(process.argv[2]))
`

describe('a second process holding the SQLite write lock', () => {
  let dir: string
  let h: Harness

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-lock-'))
    h = await startHarness({ databaseUrl: join(dir, 'latchkey.db') })
  })

  afterAll(async () => {
    await h?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('does not stall the event loop; writes complete after the lock is released', async () => {
    const child = spawn(process.execPath, ['-e', holder, join(dir, 'latchkey.db'), '2000'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    const seen = (word: string) =>
      new Promise<number>((resolve) => {
        const check = () => out.includes(word) && resolve(Date.now())
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          check()
        })
        check()
      })
    const released = seen('RELEASED')
    await seen('LOCKED')

    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    // A write that meets the lock: a new admin key (an insert).
    const write = fetch(`${h.baseURL}/v1/admin/api_keys`, {
      method: 'POST',
      headers: { authorization: h.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'during-lock', role: 'runtime' }),
    }).then(async (r) => ({ status: r.status, at: Date.now() }))
    // Meanwhile the process answers requests that need no lock.
    const answered: number[] = []
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 150))
      const t0 = Date.now()
      const m = await fetch(`${h.baseURL}/metrics`)
      expect(m.status).toBe(200)
      expect((await fetch(`${h.baseURL}/v1/health/live`)).status).toBe(200)
      answered.push(Date.now() - t0)
    }
    const done = await write
    const releasedAt = await released
    delay.disable()
    const maxStallMs = delay.max / 1e6
    console.log(
      `event loop: max delay ${maxStallMs.toFixed(1)} ms while another process held the lock; /metrics answered in ${Math.max(...answered)} ms at most`,
    )

    // The lock is held for 2 s: a wait inside SQLite shows as a stall of about that. The bound leaves
    // room for a loaded machine's scheduling and GC pauses, which are not what is measured here.
    expect(maxStallMs).toBeLessThan(500)
    expect(done.status).toBe(201)
    // It completed because the lock went away, not because it skipped the wait.
    expect(done.at).toBeGreaterThanOrEqual(releasedAt - 50)
    const keys = await h.latchkey.store.listApiKeys()
    expect(keys.map((k) => k.name)).toContain('during-lock')
  })
})
