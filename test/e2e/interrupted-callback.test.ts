/**
 * A process killed (SIGKILL) in the middle of a callback's code exchange does not leave a dead
 * flow. Process A consumes the callback and calls the provider's token endpoint, which hangs; A is
 * killed. Process B on the same database answers the app's long-poll with `failed` +
 * `callback_interrupted` once the exchange's deadline has passed (two outbound timeouts plus a
 * margin), instead of `pending` until the flow's TTL; a second flow left the same way is settled
 * by the periodic sweep without anyone polling it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Latchkey } from '@latchkey/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeys } from '../../src/broker/api-keys.js'
import { CALLBACK_INTERRUPTED } from '../../src/broker/interrupted-callbacks.js'
import { Keyring } from '../../src/crypto/keyring.js'
import type { KyselyStore } from '../../src/storage/kysely-store.js'
import { openStore } from '../../src/storage/open-store.js'
import { TestBrowser } from '../helpers/browser.js'
import { startTestIdp, type TestIdp } from '../helpers/oidc-server.js'
import { freePort } from '../helpers/ports.js'
import { type ServerProcess, startServerProcess } from '../helpers/processes.js'

// Deadline 2 × 5 s + 5 s = 15 s after the callback: longer than the second process takes to start,
// so the long-poll below begins before it and is woken by it.
const PROVIDER_TIMEOUT_MS = 5000

describe('a process killed during the code exchange', () => {
  let dir: string
  let idp: TestIdp
  let a: ServerProcess
  let b: ServerProcess | undefined
  let store: KyselyStore
  let key: string
  let common: Record<string, unknown>
  let urlA: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-interrupted-'))
    const databaseUrl = join(dir, 'latchkey.db')
    const pa = await freePort()
    urlA = `http://127.0.0.1:${pa}`
    idp = await startTestIdp({ redirectUri: `${urlA}/oauth/callback` })
    common = {
      databaseUrl,
      encryptionKeys: `1:${Keyring.generateKey()}`,
      providerEntries: [idp.entry()],
      providerTimeoutMs: PROVIDER_TIMEOUT_MS,
    }
    a = await startServerProcess({ ...common, port: pa, publicUrl: urlA }, 60_000)
    store = openStore({ url: databaseUrl })
    key = (await new ApiKeys(store).create({ name: 'test', role: 'admin' })).key
  }, 120_000)

  afterAll(async () => {
    await Promise.all([a?.kill('SIGKILL'), b?.kill()])
    await store?.close()
    await idp?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Starts a flow on A and sends its callback to A, whose token request then hangs. */
  async function callbackInFlight(user: string): Promise<string> {
    const started = await new Latchkey({ apiKey: key, baseURL: urlA, maxRetries: 0 }).auth.start(user, 'test-idp', { scopes: ['openid'] })
    const browser = new TestBrowser()
    const atCallback = await browser.authorize(started.url!, { login: user, stopAt: (u) => u.pathname === '/oauth/callback' })
    const received = idp.tokenRequestsReceived
    void browser.request(atCallback.location!).catch(() => {})
    for (let i = 0; i < 200 && idp.tokenRequestsReceived === received; i++) await new Promise((r) => setTimeout(r, 25))
    expect(idp.tokenRequestsReceived).toBe(received + 1)
    return started.id!
  }

  it('answers the app with failed + callback_interrupted after the deadline, on another process', async () => {
    idp.tokenDelayMs = 120_000
    const polled = await callbackInFlight('polled')
    const swept = await callbackInFlight('swept')
    await a.kill('SIGKILL')
    const killedAt = Date.now()
    idp.tokenDelayMs = 0

    const pb = await freePort()
    b = await startServerProcess({ ...common, port: pb, publicUrl: `http://127.0.0.1:${pb}` }, 60_000)
    const clientB = new Latchkey({ apiKey: key, baseURL: b.url, maxRetries: 0 })
    // The status read (a long-poll, should the deadline still be ahead) settles the flow; before,
    // it answered pending until the wait ran out, and would have until the flow's TTL.
    const pollFrom = Date.now()
    const result = await clientB.auth.status({ id: polled, wait: 30 })
    console.log(
      `interrupted callback answered ${Date.now() - killedAt} ms after SIGKILL (the long-poll waited ${Date.now() - pollFrom} ms)`,
    )
    expect(result.status).toBe('failed')
    expect((result as { error?: { code: string } }).error?.code).toBe(CALLBACK_INTERRUPTED)
    expect(Date.now() - killedAt).toBeLessThan(60_000)

    // The other flow, polled by nobody, is settled by B's sweep (every 15 s).
    for (let i = 0; i < 100 && (await store.getFlow(swept))!.status === 'pending'; i++) await new Promise((r) => setTimeout(r, 250))
    const sweptFlow = (await store.getFlow(swept))!
    expect(sweptFlow.status).toBe('failed')
    expect(sweptFlow.error).toBe(CALLBACK_INTERRUPTED)
  }, 150_000)
})
