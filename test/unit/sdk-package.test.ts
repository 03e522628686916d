/**
 * The SDK as an app installs it: `npm pack` of packages/client, installed offline into an empty
 * folder and imported by plain Node. Fails if the package gains a runtime dependency, ships
 * something besides its build, or its published entry point does not load on its own.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

describe('@latchkey/client package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-sdk-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('declares no runtime dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'packages/client/package.json'), 'utf8'))
    expect(pkg.dependencies ?? {}).toEqual({})
    expect(pkg.peerDependencies ?? {}).toEqual({})
    expect(pkg.optionalDependencies ?? {}).toEqual({})
  })

  it('packs only its build, and installs and loads alone', () => {
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir, '-w', '@latchkey/client'], root))
    const files: string[] = packed.files.map((f: { path: string }) => f.path)
    expect(files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md')).toEqual([])
    expect(files).toContain('dist/index.js')
    expect(files).toContain('dist/index.d.ts')
    // Small enough to read in one sitting; the README reports the figure.
    expect(packed.size).toBeLessThan(20_000)

    const app = join(dir, 'app')
    execFileSync('mkdir', ['-p', app])
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    npm(['install', '--offline', '--no-audit', '--no-fund', join(dir, packed.filename)], app)
    // Nothing but the SDK itself landed in node_modules.
    expect(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['@latchkey'])
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { Latchkey, APIError } from '@latchkey/client'; const c = new Latchkey({ apiKey: 'x', baseURL: 'http://127.0.0.1:1' }); console.log(typeof c.auth.start, APIError.name)",
      ],
      { cwd: app, encoding: 'utf8' },
    )
    expect(out.trim()).toBe('function APIError')
  })
})
