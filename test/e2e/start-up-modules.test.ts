/**
 * What `latchkey serve` loads before it is ready, on SQLite without a configuration file: not
 * the packages only some starts need (they are a large part of start-up time). yaml is loaded for
 * a configuration file, pg for a PostgreSQL URL, ajv by the first request with a Fastify schema.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { expect, it } from 'vitest'
import { freePort } from '../helpers/ports.js'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

it('a SQLite start without a configuration file loads neither yaml, pg nor ajv before it is ready', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lk-modules-'))
  // Prints the CommonJS modules loaded so far (all three are CommonJS) when the process exits.
  const probe = join(dir, 'probe.mjs')
  writeFileSync(
    probe,
    `import { createRequire } from 'node:module'
const cache = createRequire(import.meta.url).cache
process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(cache)) + '\\n'))
`,
  )
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', probe, main, 'serve'], {
    env: {
      PATH: process.env['PATH'],
      LATCHKEY_DATA_DIR: join(dir, 'data'),
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_PORT: String(port),
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_BACKGROUND_REFRESH: 'false',
    },
    // The repository (for tsx), which has no latchkey.yaml; LATCHKEY_CONFIG is not passed on.
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 30_000
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serve exited early:\n${stderr}`)
      const ready = await fetch(`http://127.0.0.1:${port}/v1/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ready) break
      if (Date.now() > deadline) throw new Error(`serve not ready:\n${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  } finally {
    // Also when it never got ready: no server is left holding its port.
    child.kill('SIGTERM')
    await exited
  }
  const loaded = JSON.parse(/^LOADED (.*)$/m.exec(stderr)?.[1] ?? 'null') as string[]
  expect(loaded.some((f) => f.includes('/node_modules/fastify/'))).toBe(true)
  const packages = new Set(loaded.map((f) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]))
  expect([...packages].filter((p) => p === 'yaml' || p === 'pg' || p === 'ajv')).toEqual([])
}, 40_000)

it('serve --dev without the optional dependency oidc-provider says what to install, and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lk-no-oidc-'))
  // A resolve hook that answers for oidc-provider as Node does for a package that is not installed.
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (specifier === 'oidc-provider') throw Object.assign(new Error("Cannot find package 'oidc-provider' imported from " + context.parentURL), { code: 'ERR_MODULE_NOT_FOUND' })
  return next(specifier, context)
}
`,
  )
  const register = join(dir, 'register.mjs')
  writeFileSync(register, `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`)
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', register, main, 'serve', '--dev'], {
    env: { PATH: process.env['PATH'], LATCHKEY_DATA_DIR: join(dir, 'data'), LATCHKEY_HOST: '127.0.0.1', LATCHKEY_PORT: String(port) },
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  expect(stderr).toContain("latchkey: --dev needs the demo provider's optional dependency oidc-provider, which is not installed")
  expect(code).toBe(1)
}, 40_000)
