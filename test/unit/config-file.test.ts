/**
 * `latchkey.yaml` as a real file read by `loadConfig`, its provider entries compiled by
 * `loadProviders` as at start: typos stop the start with the file, the key's path and the nearest
 * known key; a confidential provider without its secret, and a built-in with its own endpoints,
 * are refused before the first user signs in.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startBanner } from '../../src/cli/banner.js'
import { loadConfig } from '../../src/config.js'
import { OutboundGuard } from '../../src/oauth/outbound-guard.js'
import { catalog } from '../../src/providers/catalog.js'
import { loadProviders } from '../../src/providers/registry.js'
import { closest } from '../../src/strict-schema.js'
import { startHarness } from '../helpers/latchkey.js'

/** Writes the YAML to a fresh folder and starts as `serve` would: config, then providers. */
function start(yaml: string, env: Record<string, string> = {}): string {
  const cwd = mkdtempSync(join(tmpdir(), 'lk-config-'))
  writeFileSync(join(cwd, 'latchkey.yaml'), yaml)
  try {
    const config = loadConfig({ cwd, env })
    loadProviders({
      catalog,
      entries: config.providerEntries,
      envProviders: config.envProviders,
      configFile: config.configFile,
      allowInsecureLoopback: false,
      guard: new OutboundGuard([]),
    })
  } catch (err) {
    return (err as Error).message
  }
  return 'started'
}

const github = (extra = '') => `auth:
  providers:
    - id: gh
      provider_id: github
      client_id: cid
      client_secret: secret
${extra}`

describe('latchkey.yaml typos stop the start', () => {
  it('an unknown top-level key (auht:)', () => {
    expect(start('auht:\n  providers: []\n')).toMatch(
      /^latchkey\.yaml: invalid configuration:\n {2}- \(root\): unknown key "auht" \(did you mean "auth"\?\)/,
    )
  })

  it('provider: for providers:', () => {
    expect(start('auth:\n  provider:\n    - id: x\n')).toMatch(
      /latchkey\.yaml: .*\n {2}- auth: unknown key "provider" \(did you mean "providers"\?\)/,
    )
  })

  it('scope_delimeter: inside a provider entry', () => {
    const yaml = `auth:
  providers:
    - id: hooli
      client_id: cid
      client_secret: s
      oauth2:
        scope_delimeter: ","
        authorize_request: { endpoint: "https://hooli.example/authorize" }
        token_request: { endpoint: "https://hooli.example/token", auth_method: client_secret_basic }
`
    expect(start(yaml)).toBe(
      'latchkey.yaml: auth.providers[0] (id: hooli): oauth2: unknown key "scope_delimeter" (did you mean "scope_delimiter"?)',
    )
  })

  it('verification: { mode: custum } (used to fall back to browser)', () => {
    expect(start('auth:\n  verification: { mode: custum, verifier_url: "https://app.example/verify" }\n')).toMatch(
      /auth\.verification\.mode: "custum" is not one of "skip", "custom", "browser" \(did you mean "custom"\?\)/,
    )
  })

  it('an unknown key with nothing near lists the known ones', () => {
    expect(start('api:\n  colour: blue\n')).toMatch(/- api: unknown key "colour" \(known: host, port, public_url, public_host\)/)
  })

  it('a correct file still starts, and the verification mode is read from it', () => {
    expect(start(github())).toBe('started')
    const cwd = mkdtempSync(join(tmpdir(), 'lk-config-'))
    writeFileSync(join(cwd, 'latchkey.yaml'), 'auth:\n  verification: { mode: skip }\n')
    expect(loadConfig({ cwd, env: {} }).verification.mode).toBe('skip')
  })

  it('suggests only near keys', () => {
    expect(closest('auht', ['api', 'database', 'auth'])).toBe('auth')
    expect(closest('colour', ['host', 'port'])).toBeUndefined()
  })
})

describe('client secrets', () => {
  it('a built-in confidential provider without its secret is refused at start', () => {
    expect(start('auth:\n  providers:\n    - { id: gh, provider_id: github, client_id: cid }\n')).toBe(
      'latchkey.yaml: auth.providers[0] (id: gh): client_secret: is required: github authenticates the client at its token endpoint (client_secret_post)',
    )
  })

  it('a client id from the environment without its secret too', () => {
    expect(start('{}\n', { LATCHKEY_GITHUB_CLIENT_ID: 'cid' })).toMatch(/^LATCHKEY_GITHUB_CLIENT_ID: client_secret: is required/)
  })

  it('a custom confidential provider (client_secret_basic) without its secret is refused', () => {
    const yaml = `auth:
  providers:
    - id: hooli
      client_id: cid
      oauth2:
        authorize_request: { endpoint: "https://hooli.example/authorize" }
        token_request: { endpoint: "https://hooli.example/token", auth_method: client_secret_basic }
`
    expect(start(yaml)).toMatch(/\(id: hooli\): client_secret: is required/)
  })

  it('a public PKCE client (auth method none) needs no secret', () => {
    const yaml = `auth:
  providers:
    - id: hooli
      client_id: cid
      oauth2:
        pkce: { enabled: true }
        authorize_request: { endpoint: "https://hooli.example/authorize" }
        token_request: { endpoint: "https://hooli.example/token" }
`
    expect(start(yaml)).toBe('started')
  })
})

describe('a built-in provider with its own oauth2 block', () => {
  it('is refused, with how to declare a custom provider under the same id', () => {
    expect(start(github('      oauth2:\n        token_request: { endpoint: "https://sandbox.example/token" }\n'))).toMatch(
      /\(id: gh\): oauth2\.token_request: a built-in provider \(provider_id: github\) uses the catalog's endpoints .*declare a custom provider under the same id: remove provider_id/,
    )
  })

  it('credentials under oauth2 (Arcade admin API shape) are still accepted', () => {
    expect(start('auth:\n  providers:\n    - { id: gh, provider_id: github, oauth2: { client_id: cid, client_secret: s } }\n')).toBe(
      'started',
    )
  })
})

describe('start banner', () => {
  it('states the verification mode and every configured provider', async () => {
    const h = await startHarness({
      providerEntries: (idp) => [idp.entry(), { id: 'gh', provider_id: 'github', client_id: 'c', client_secret: 's', enabled: false }],
    })
    try {
      const plain = { bold: (s: string) => s, warn: (s: string) => s }
      const text = startBanner(h.latchkey, h.latchkey.ctx.config, h.baseURL, plain)
      expect(text).toContain('  verification: browser (')
      expect(text).toContain('  providers (2):\n    gh (github, from config, disabled)\n    test-idp (custom, from config)\n')
    } finally {
      await h.close()
    }
  })
})
