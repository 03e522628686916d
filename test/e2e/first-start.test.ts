/**
 * `latchkey serve` as a real child process on a fresh data folder, its output piped (as in a
 * container or under systemd): the first admin key must not reach that output, only a `0600`
 * file; the key in it works. The data folder and its files are the owner's only.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/ports.js'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
let child: ChildProcess
let stdout = ''
let stderr = ''
let dataDir: string
let baseURL: string

beforeAll(async () => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'lk-first-')), 'data')
  const port = await freePort()
  baseURL = `http://127.0.0.1:${port}`
  child = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], {
    env: {
      PATH: process.env['PATH'],
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_PORT: String(port),
      LATCHKEY_LOG_LEVEL: 'info',
      LATCHKEY_BACKGROUND_REFRESH: 'false',
    },
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stdout}\n${stderr}`)), 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (stdout.includes('Try it')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${stdout}\n${stderr}`)))
  })
}, 40_000)

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }
})

describe('first start with piped output', () => {
  it('creates the data folder 0700, the SQLite file and the development key file 0600', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    expect(statSync(join(dataDir, 'latchkey.db')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dataDir, 'latchkey.db-wal')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dataDir, 'encryption.key')).mode & 0o777).toBe(0o600)
  })

  it('prints no API key, only where it was written; the file is 0600 and its key works', async () => {
    const file = join(dataDir, 'initial-admin-key')
    expect(stdout + stderr).not.toMatch(/lk_[a-z0-9]{12}_/)
    expect(stdout).toContain(`written to ${file} (mode 0600`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const key = readFileSync(file, 'utf8').trim()
    expect(key).toMatch(/^lk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
    const r = await fetch(`${baseURL}/v1/admin/auth_providers`, { headers: { authorization: `Bearer ${key}` } })
    expect(r.status).toBe(200)
  })
})
