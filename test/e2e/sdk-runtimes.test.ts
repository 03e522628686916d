/**
 * The SDK claims Node 18+, Deno and Bun. This runs its published build (packages/client/dist) on
 * real Bun and Deno binaries against a live Latchkey: a pending authorization with a link, the
 * typed 404, and Deno without --allow-env when the options are passed explicitly (an SDK that
 * touched `process.env` unasked would need a permission prompt there).
 *
 * The binaries come from `scripts/install-test-runtimes.sh` (run by .ci/run). Without them the
 * suite skips with a message, except in CI, where it fails.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { postgresRequired as ciRequired } from '../helpers/postgres.js'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname
const binDir = process.env['LATCHKEY_TEST_RUNTIMES'] ?? '/opt/latchkey-test-runtimes/node_modules/.bin'
const sdk = pathToFileURL(join(root, 'packages/client/dist/index.js')).href

const runtimes = {
  bun: (script: string) => [join(binDir, 'bun'), ['run', script]] as const,
  deno: (script: string) =>
    [join(binDir, 'deno'), ['run', '--no-prompt', '--allow-net=127.0.0.1', `--allow-read=${root}`, script]] as const,
}
const available = Object.keys(runtimes).every((name) => existsSync(join(binDir, name)))

const script = (baseURL: string, apiKey: string, provider: string) => `
import { Latchkey, NotFoundError } from ${JSON.stringify(sdk)}
const client = new Latchkey({ apiKey: ${JSON.stringify(apiKey)}, baseURL: ${JSON.stringify(baseURL)}, maxRetries: 0 })
const health = await client.health.check()
const auth = await client.auth.start('runtime-user', ${JSON.stringify(provider)}, { scopes: ['openid'] })
let notFound = null
try { await client.auth.status({ id: 'no-such-flow' }) } catch (err) { notFound = err instanceof NotFoundError ? err.status : String(err) }
console.log(JSON.stringify({ health, status: auth.status, url: auth.url, notFound }))
`

describe.skipIf(!available && !ciRequired())('SDK on Bun and Deno', () => {
  let h: Harness
  let dir: string

  beforeAll(async () => {
    if (!available) throw new Error(`Bun/Deno not found in ${binDir}: run scripts/install-test-runtimes.sh (CI requires them)`)
    // The runtimes load the SDK's build, as an installed app would; build it if a dev run has not.
    if (!existsSync(join(root, 'packages/client/dist/index.js')))
      await run('npm', ['run', 'build', '-w', '@latchkey/client'], { cwd: root })
    h = await startHarness()
    dir = mkdtempSync(join(tmpdir(), 'latchkey-runtimes-'))
  })
  afterAll(async () => {
    await h?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  for (const [name, command] of Object.entries(runtimes)) {
    it(`runs on ${name}`, async () => {
      const file = join(dir, `${name}.mjs`)
      writeFileSync(file, script(h.baseURL, h.apiKey, h.idp.entry()['id'] as string))
      const [bin, args] = command(file)
      const { stdout } = await run(bin, [...args], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1' } })
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!)
      expect(result.health).toEqual({ healthy: true })
      expect(result.status).toBe('pending')
      expect(result.url).toMatch(new RegExp(`^${h.baseURL}/oauth/authorize/`))
      expect(result.notFound).toBe(404)
    })
  }
})
