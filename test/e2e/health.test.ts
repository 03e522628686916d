/**
 * Health tells the truth about writes. A SQLite database on a real, tiny filesystem (a 4 MiB
 * tmpfs, mounted by the test: needs root) is filled up: every write then fails with SQLITE_FULL,
 * so readiness and Arcade's `/v1/health` say 503 while liveness stays 200, requests that need a
 * write answer 503 UNAVAILABLE (not 500), and all of it recovers once space is freed.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/latchkey.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-mnt-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' })
    execFileSync('umount', [dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Writes zeros until the filesystem refuses (ENOSPC). */
function fill(path: string): void {
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    closeSync(fd)
  }
}

describe.runIf(canMount())('health on a full disk (SQLite on a tiny tmpfs)', () => {
  let mnt: string
  let h: Harness

  beforeAll(async () => {
    mnt = mkdtempSync(join(tmpdir(), 'latchkey-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt])
    h = await startHarness({ databaseUrl: join(mnt, 'latchkey.db') })
  })

  afterAll(async () => {
    await h?.close()
    if (mnt) {
      execFileSync('umount', ['-l', mnt])
      rmSync(mnt, { recursive: true, force: true })
    }
  })

  const get = async (path: string) => {
    const r = await fetch(`${h.baseURL}${path}`)
    return { status: r.status, body: (await r.json()) as Record<string, unknown> }
  }

  it('is ready while writes work, not ready (503) while the disk is full, ready again after', async () => {
    expect(await get('/v1/health')).toEqual({ status: 200, body: { healthy: true } })

    fill(join(mnt, 'filler'))
    await sleep(1100) // past the readiness cache
    const health = await get('/v1/health')
    expect(health.status).toBe(503)
    expect(health.body['healthy']).toBe(false)
    expect((await get('/v1/health/ready')).status).toBe(503)
    // Alive: the process answers; restarting it would not free the disk.
    expect(await get('/v1/health/live')).toEqual({ status: 200, body: { healthy: true } })

    // A request that must write (a new user's flow) answers 503 UNAVAILABLE, not 500.
    const r = await fetch(`${h.baseURL}/v1/auth/authorize`, {
      method: 'POST',
      headers: { authorization: h.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'dora', auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } } }),
    })
    expect(r.status).toBe(503)
    expect(((await r.json()) as { name: string }).name).toBe('UNAVAILABLE')

    unlinkSync(join(mnt, 'filler'))
    await sleep(1100)
    expect((await get('/v1/health')).status).toBe(200)
    expect((await get('/v1/health/ready')).status).toBe(200)
  })
})
