/**
 * Node's compile cache is code Node runs without compiling it, checked only by checksums anyone
 * can recompute, so `bin/latchkey.js` uses it only in a data folder of this user that no one else
 * can write — never Node's default under the shared temporary folder (review finding: a
 * world-writable cache folder let another user change what the CLI runs).
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import nodeModule from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error plain JavaScript next to the CLI's entry, without type declarations
import { compileCacheDir } from '../../bin/compile-cache.js'

const pick = compileCacheDir as (dataDir: string) => string | undefined
const dirs: string[] = []
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'latchkey-cc-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('compile cache folder', () => {
  it('none without a data folder (no fallback to the temporary folder)', () => {
    expect(pick(join(scratch(), 'data'))).toBeUndefined()
  })

  it('inside a private data folder of this user', () => {
    const data = join(scratch(), 'data')
    mkdirSync(data, { mode: 0o700 })
    expect(pick(data)).toBe(join(data, 'compile-cache'))
    mkdirSync(join(data, 'compile-cache'), { mode: 0o755 })
    expect(pick(data)).toBe(join(data, 'compile-cache'))
  })

  it('none when the data folder or the cache folder can be written by others', () => {
    const data = join(scratch(), 'data')
    mkdirSync(data)
    chmodSync(data, 0o777)
    expect(pick(data)).toBeUndefined()
    chmodSync(data, 0o755)
    mkdirSync(join(data, 'compile-cache'))
    chmodSync(join(data, 'compile-cache'), 0o775)
    expect(pick(data)).toBeUndefined()
  })

  it.runIf(process.getuid?.() === 0)('none when the cache folder belongs to another user', () => {
    const data = join(scratch(), 'data')
    mkdirSync(data, { mode: 0o755 })
    mkdirSync(join(data, 'compile-cache'), { mode: 0o755 })
    chownSync(join(data, 'compile-cache'), 65534, 65534)
    expect(pick(data)).toBeUndefined()
  })

  // Node 20 has no compile cache, so there it would pass whatever the CLI does: skipped; CI runs it on 22 and 24.
  it.skipIf(!('enableCompileCache' in nodeModule))(
    'the CLI run outside a data folder leaves no compile cache in the temporary folder',
    () => {
      const dir = scratch()
      const bin = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../bin/latchkey.js')
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir }
      delete env['LATCHKEY_DATA_DIR']
      delete env['NODE_DISABLE_COMPILE_CACHE']
      execFileSync(process.execPath, [bin, '--version'], { cwd: dir, env, stdio: 'ignore' })
      expect(readdirSync(dir)).toEqual([])
    },
  )
})
