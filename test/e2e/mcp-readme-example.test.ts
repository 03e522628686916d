/**
 * The README's MCP example, run as written: `scripts/mcp-example-server.ts` as a child process,
 * the README's `latchkey.yaml` and environment for `npm run dev` (Latchkey's CLI, `serve --dev`,
 * output piped so the first admin key goes to `data/initial-admin-key`), and the README's
 * TypeScript snippet itself, taken from README.md with only the substitutions the README tells
 * the reader to make (provider id, server URL, base URL). A README change that no longer fits
 * these steps fails here.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { freePort } from '../helpers/ports.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const children: ChildProcess[] = []
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGINT')
    await exited
  }
})

/** The README's MCP section. */
function mcpSection(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('### MCP servers as providers')
  expect(start).toBeGreaterThan(0)
  return readme.slice(start, readme.indexOf('\n## ', start))
}

/** Replaces `from` (which must occur) by `to`. */
function substitute(text: string, from: string | RegExp, to: string): string {
  expect(text).toMatch(from)
  return text.replace(from, to)
}

/** Starts a process (tsx, in the repository), resolving with its output once `ready` matches. */
function start(
  args: string[],
  env: Record<string, string | undefined>,
  ready: RegExp,
): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start:\n${out}`)), 30_000)
    child.stdout!.on('data', () => {
      if (ready.test(out)) {
        clearTimeout(timer)
        resolve({ child, out: () => out })
      }
    })
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}:\n${out}`)))
  })
}

describe("the README's MCP example", () => {
  it('the example server, the YAML, npm run dev and the snippet: the tool answers `you are <login>`', async () => {
    const section = mcpSection()
    const env = { PATH: process.env['PATH'], LATCHKEY_TEST_PORT_RANGE: process.env['LATCHKEY_TEST_PORT_RANGE'] }

    // 1. `npx tsx scripts/mcp-example-server.ts` prints the MCP server's URL.
    expect(section).toContain('`npx tsx scripts/mcp-example-server.ts`')
    const example = await start(['scripts/mcp-example-server.ts'], env, /MCP server:\s+\S+\n/)
    const serverUrl = /MCP server:\s+(\S+)/.exec(example.out())![1]!
    const port = new URL(serverUrl).port

    // 2. The README's latchkey.yaml, with the printed port.
    const yaml = /cat > latchkey\.yaml <<YAML\n([\s\S]*?)\nYAML\n/.exec(section)?.[1]
    expect(yaml).toBeDefined()
    const dir = mkdtempSync(join(tmpdir(), 'lk-readme-mcp-'))
    writeFileSync(join(dir, 'latchkey.yaml'), substitute(yaml!, '<port>', port))

    // 3. The README's environment and `npm run dev` (= `tsx src/cli/main.ts serve --dev`), output piped.
    const command = /^((?:[A-Z_]+=\S+ )*)npm run dev\b/m.exec(section)
    expect(command).not.toBeNull()
    const readmeEnv = Object.fromEntries(
      command![1]!
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((a) => a.split('=') as [string, string]),
    )
    expect(readmeEnv).toHaveProperty('LATCHKEY_OUTBOUND_ALLOW_PRIVATE')
    const dev = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.dev as string
    expect(dev).toBe('tsx src/cli/main.ts serve --dev')
    const latchkeyPort = await freePort()
    const data = join(dir, 'data')
    await start(
      ['src/cli/main.ts', 'serve', '--dev'],
      {
        ...env,
        ...readmeEnv,
        // The README runs it in the folder holding latchkey.yaml, with ./data there.
        LATCHKEY_CONFIG: join(dir, 'latchkey.yaml'),
        LATCHKEY_DATA_DIR: data,
        LATCHKEY_HOST: '127.0.0.1',
        LATCHKEY_PORT: String(latchkeyPort),
        LATCHKEY_BACKGROUND_REFRESH: 'false',
      },
      /Try it/,
    )
    // 4. LATCHKEY_API_KEY: the key the first start wrote to data/initial-admin-key (output not a terminal).
    expect(section).toContain('data/initial-admin-key')
    process.env['LATCHKEY_API_KEY'] = readFileSync(join(data, 'initial-admin-key'), 'utf8').trim()

    // 5. The README's snippet, with the substitutions it tells the reader to make.
    let snippet = /```ts\n([\s\S]*?)```/.exec(section.slice(section.indexOf('With the official MCP TypeScript SDK')))?.[1]
    expect(snippet).toBeDefined()
    expect(snippet).toContain('mcpRequestInit(done.context!.token!)')
    snippet = substitute(snippet!, /const SERVER_URL = '[^']+'/, `const SERVER_URL = ${JSON.stringify(serverUrl)}`)
    snippet = substitute(snippet, /'acme-mcp'/g, "'local-mcp'")
    snippet = substitute(snippet, "baseURL: 'http://localhost:9099'", `baseURL: 'http://localhost:${latchkeyPort}'`)
    // Written beside this test so its imports resolve from the repository (as in an app that installed them).
    const file = join(root, 'test', 'e2e', `.readme-mcp-snippet-${process.pid}.ts`)
    writeFileSync(file, `${snippet}\nexport {}\n`)
    const logged: unknown[][] = []
    let printed: (link: string) => void = () => {}
    const signInLink = new Promise<string>((resolve) => (printed = resolve))
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logged.push(args)
      if (args[0] === 'Sign in:') printed(String(args[1]))
    })
    try {
      const run = import(file)
      // The person opens the printed link and signs in with any login.
      const link = await Promise.race([signInLink, run.then(() => 'the snippet ended without printing a link')])
      expect(link).toMatch(/^http:\/\/localhost:\d+\//)
      expect((await new TestBrowser().authorize(link!, { login: 'alice' })).body).toContain('Connected')
      await run
    } finally {
      log.mockRestore()
      rmSync(file, { force: true })
      delete process.env['LATCHKEY_API_KEY']
    }
    const result = logged.find((l) => typeof l[0] === 'object')?.[0] as { content: Array<{ text: string }> }
    expect(result.content[0]!.text).toBe('you are alice')
  })
})
