/**
 * Several accounts per user and provider, end to end through our SDK against a real OAuth server
 * (oidc-provider on 127.0.0.1): a work and a personal account side by side, the default account
 * without a selector, selection by account hint and by connection id, and re-consent with an
 * account already connected updating its connection instead of adding one.
 */

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Latchkey, NotFoundError } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

let h: Harness
let client: Latchkey
const SCOPES = ['openid', 'profile', 'email']

beforeAll(async () => {
  h = await startHarness({ idp: { scopes: ['files.read'] } })
  client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL })
})
afterAll(async () => h?.close())

async function sub(token: string): Promise<unknown> {
  const r = await fetch(`${h.idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })
  expect(r.status).toBe(200)
  return ((await r.json()) as Record<string, unknown>)['sub']
}

/** Starts (or answers) an authorization and, when it is pending, signs in at the provider as `login`. */
async function connect(userId: string, login: string, options: { account?: string; scopes?: string[] } = {}) {
  const started = await client.auth.start(userId, 'test-idp', { scopes: options.scopes ?? SCOPES, ...options })
  expect(started.status).toBe('pending')
  const waiting = client.auth.waitForCompletion(started, { timeoutMs: 20_000 })
  const page = await new TestBrowser().authorize(started.url!, { login })
  expect(page.body).toContain('Connected')
  return waiting
}

describe('several accounts per user and provider', () => {
  it('keeps a work and a personal account side by side, each answering for itself', async () => {
    const work = await connect('ann', 'ann-work')
    // The flow's answer carries its own id (ac_…); the account names the connection.
    const workId = work.account!.connection_id
    expect(workId).toMatch(/^cn_/)
    expect(work.account).toEqual({ connection_id: workId, id: 'ann-work', label: 'ann-work@example.test', default: true })

    // A hint that matches no connected account starts a flow for a new one.
    const personal = await connect('ann', 'ann-home', { account: 'ann-home@example.test' })
    const personalId = personal.account!.connection_id
    expect(personalId).not.toBe(workId)
    expect(personal.account).toMatchObject({ id: 'ann-home', default: false })

    // Without a selector: the default (first) account, as before, from the cache on the second call.
    for (let i = 0; i < 2; i++) {
      const dflt = await client.auth.start('ann', 'test-idp', { scopes: SCOPES })
      expect(dflt).toMatchObject({ status: 'completed', id: workId })
      expect(await sub(dflt.context!.token!)).toBe('ann-work')
    }
    // By email (any case), by provider account id, by connection id.
    for (const account of ['ANN-HOME@example.test', 'ann-home', personalId]) {
      const got = await client.auth.start('ann', 'test-idp', { scopes: SCOPES, account })
      expect(got).toMatchObject({ status: 'completed', id: personalId, account: { id: 'ann-home', default: false } })
      expect(await sub(got.context!.token!)).toBe('ann-home')
    }
    const byWorkId = await client.auth.start('ann', 'test-idp', { scopes: SCOPES, account: workId })
    expect(await sub(byWorkId.context!.token!)).toBe('ann-work')

    const listed = await client.admin.userConnections.list({ user_id: 'ann' })
    expect(listed.total_count).toBe(2)
    expect(listed.items.map((c) => [c.account.id, c.default]).sort()).toEqual([
      ['ann-home', false],
      ['ann-work', true],
    ])
  })

  it('re-consent with an account already connected updates that connection, keeping the default', async () => {
    const work = await connect('ben', 'ben-work')
    const home = await connect('ben', 'ben-home', { account: 'ben-home' })
    // More scopes for the personal account: a new flow, and the grant lands on the same connection.
    const more = await connect('ben', 'ben-home', { account: home.account!.connection_id, scopes: [...SCOPES, 'files.read'] })
    expect(more.account).toMatchObject({ connection_id: home.account!.connection_id, id: 'ben-home', default: false })
    expect(more.scopes).toContain('files.read')
    // A flow without selector, signed in with the personal account: no duplicate either; it becomes the default.
    const again = await connect('ben', 'ben-home', { scopes: [...SCOPES, 'files.read', 'offline_access'] })
    expect(again.account).toMatchObject({ connection_id: home.account!.connection_id, default: true })
    expect((await client.admin.userConnections.list({ user_id: 'ben' })).total_count).toBe(2)
    const dflt = await client.auth.start('ben', 'test-idp', { scopes: SCOPES })
    expect(await sub(dflt.context!.token!)).toBe('ben-home')
    // Deleting the default makes the remaining account the default.
    await client.admin.userConnections.delete(home.account!.connection_id)
    const left = await client.auth.start('ben', 'test-idp', { scopes: SCOPES })
    expect(left).toMatchObject({ status: 'completed', id: work.account!.connection_id, account: { default: true } })
  })

  it('the CLI picks an account with --account and marks a connection invalid with --mark-invalid', async () => {
    await connect('cli-user', 'cli-work')
    const home = await connect('cli-user', 'cli-home', { account: 'cli-home' })
    const env = { ...process.env, LATCHKEY_API_KEY: h.apiKey, LATCHKEY_BASE_URL: h.baseURL }
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'auth', 'test-idp', '--user', 'cli-user', ...args], {
        env,
        timeout: 60_000,
      })
    const picked = await cli('--scopes', SCOPES.join(','), '--account', 'cli-home@example.test')
    expect(await sub(picked.stdout.trim())).toBe('cli-home')
    expect(picked.stderr).toContain(home.account!.connection_id)
    await cli('--mark-invalid', home.account!.connection_id)
    expect((await client.auth.status({ id: home.account!.connection_id })).status).toBe('failed')
    // The default account is untouched.
    expect((await client.auth.start('cli-user', 'test-idp', { scopes: SCOPES })).status).toBe('completed')
  }, 120_000)

  it('answers 404 for a connection id that is not one of the user’s', async () => {
    const other = await connect('cat', 'cat')
    await expect(client.auth.start('dan', 'test-idp', { scopes: SCOPES, account: other.account!.connection_id })).rejects.toBeInstanceOf(
      NotFoundError,
    )
    await expect(client.auth.start('cat', 'test-idp', { scopes: SCOPES, account: 'cn_nope' })).rejects.toBeInstanceOf(NotFoundError)
  })
})
