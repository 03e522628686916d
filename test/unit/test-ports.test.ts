/**
 * The test suite's ports come from one helper (test/helpers/ports.ts) that gives each vitest worker
 * its own slice below the ephemeral range. CI once failed with EADDRINUSE because one file drew
 * ports from its own random range, which overlapped the shared helper's range in the other worker.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname

function draw(poolId: string, count: number): number[] {
  const script = `import { freePort } from './test/helpers/ports.ts'
const out = []
for (let i = 0; i < ${count}; i++) out.push(await freePort())
console.log(JSON.stringify(out))`
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, VITEST_POOL_ID: poolId, LATCHKEY_TEST_PORT_RANGE: '' },
    encoding: 'utf8',
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as number[]
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
  })
}

describe('test ports', () => {
  it('two workers draw disjoint ports, all below the ephemeral range, none twice', () => {
    const one = draw('1', 300)
    const two = draw('2', 300)
    expect(new Set(one).size).toBe(300)
    expect(new Set(two).size).toBe(300)
    expect(one.filter((p) => two.includes(p))).toEqual([])
    for (const p of [...one, ...two]) {
      expect(p).toBeGreaterThanOrEqual(20_000)
      expect(p).toBeLessThan(32_768)
    }
  }, 60_000)

  it('no test or bench file picks a port of its own (random ranges, listen(0) or port: 0)', () => {
    const offenders = [...files(join(root, 'test')), ...files(join(root, 'bench'))]
      .filter((f) => !f.endsWith('test/helpers/ports.ts') && !f.endsWith('test/unit/test-ports.test.ts'))
      .filter((f) => {
        const text = readFileSync(f, 'utf8')
        return (
          /\d_?\d{3} \+ Math\.floor\(Math\.random\(\)/.test(text) || /\.listen\(0[,)]/.test(text) || /listen\(\{[^}]*port: 0\b/.test(text)
        )
      })
      .map((f) => f.slice(root.length))
    expect(offenders).toEqual([])
  })
})
