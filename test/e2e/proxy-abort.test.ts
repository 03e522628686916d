/**
 * A caller that goes away mid-call: the upstream call is cancelled, the server still closes
 * promptly afterwards (no socket, stream or reply left behind), and the abort is logged and
 * audited as the caller leaving, not as the provider failing. Real parts as in proxy.test.ts.
 */
import { request } from 'node:http'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { startUpstreamApi, type UpstreamApi } from '../helpers/upstream-api.js'

let h: Harness | undefined
let up: UpstreamApi

beforeAll(async () => {
  up = await startUpstreamApi(() => `${h!.idp.issuer}/me`)
})
afterAll(async () => {
  await h?.close()
  await up?.close()
})

async function start(): Promise<Harness> {
  const harness = await startHarness({ providerEntries: (idp) => [{ ...idp.entry(), api_base_urls: [`${up.base}/api`] }] })
  h = harness
  const client = new Latchkey({ apiKey: harness.apiKey, baseURL: harness.baseURL, maxRetries: 0 })
  const started = await client.auth.start('alice', 'test-idp', { scopes: ['openid', 'offline_access'] })
  await new TestBrowser().authorize(started.url!, { login: 'alice' })
  await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
  return harness
}

/** Calls `path` through the proxy and destroys the request once `when` says so. */
function callThenAbort(harness: Harness, path: string, when: 'first-chunk' | 'sent'): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${harness.baseURL}/v1/proxy/test-idp/${path}`, {
      headers: { authorization: harness.apiKey, 'latchkey-user-id': 'alice' },
    })
    req.on('response', (res) => {
      res.once('data', () => {
        req.destroy()
        resolve()
      })
    })
    req.on('error', (err) => {
      if (req.destroyed) resolve()
      else reject(err)
    })
    req.end()
    if (when === 'sent') {
      const wait = setInterval(() => {
        if (up.open() > 0) {
          clearInterval(wait)
          req.destroy()
        }
      }, 10)
    }
  })
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

async function closeTime(harness: Harness): Promise<number> {
  const t0 = Date.now()
  await harness.close()
  h = undefined
  return Date.now() - t0
}

async function proxyAudit(harness: Harness) {
  await harness.latchkey.ctx.audit.flush()
  return (await harness.latchkey.store.listAudit({ action: 'proxy.request' }, 100, 0)).items
}

describe('proxy: the caller goes away', () => {
  it('mid-stream: the upstream answer is cancelled and the server closes promptly', async () => {
    const harness = await start()
    await callThenAbort(harness, 'slow', 'first-chunk')
    await until(() => up.open() === 0)
    expect(up.open()).toBe(0)
    expect(harness.logs.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 40)).toEqual([])
    // Nothing of the call is left: close takes no longer than with no call at all (seconds when a socket lingers).
    expect(await closeTime(harness)).toBeLessThan(1500)
  })

  it('before the answer: logged as the caller leaving, not as the provider, and audited so', async () => {
    const harness = await start()
    await callThenAbort(harness, 'hang', 'sent')
    await until(() => up.open() === 0 && harness.logs.some((l) => l.includes('caller went away before the answer')))
    expect(up.open()).toBe(0)
    const lines = harness.logs.filter((l) => l.includes('/v1/proxy/'))
    expect(harness.logs.join('')).not.toContain('provider unreachable')
    const gone = harness.logs
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.msg.includes('caller went away before the answer'))
    expect(gone, lines.join('')).toBeDefined()
    expect(gone!.level).toBeLessThanOrEqual(30)
    expect(harness.logs.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 40)).toEqual([])
    const audited = await proxyAudit(harness)
    expect(audited.map((a) => a.detail)).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/hang', status: null, error: 'caller_gone' }),
    ])
    expect(await closeTime(harness)).toBeLessThan(1500)
  })

  it('a stream still open when the server closes is cancelled, not waited for', async () => {
    const harness = await start()
    const req = request(`${harness.baseURL}/v1/proxy/test-idp/slow`, {
      headers: { authorization: harness.apiKey, 'latchkey-user-id': 'alice' },
    })
    const ended = new Promise<void>((resolve) => {
      req.on('error', () => resolve())
      req.on('close', () => resolve())
    })
    await new Promise<void>((resolve) => {
      req.on('response', (res) => res.once('data', () => resolve()))
      req.end()
    })
    // Without the cancel, close waited for the provider's stream to end (10 s here, forever for a watch).
    expect(await closeTime(harness)).toBeLessThan(1500)
    await ended
    await until(() => up.open() === 0)
    expect(up.open()).toBe(0)
  })
})
