/**
 * The HTTP timeouts as documented, against a real server over raw sockets: a client that trickles
 * its headers is answered 408 and closed once the headers timeout has passed (not before, and
 * not ~30 s later when Node's default connection check would first look), a body that does not
 * arrive within the request timeout likewise, an idle keep-alive connection is closed after the
 * keep-alive timeout, and a long-poll that outlasts the request timeout is not cut.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'

const HEADERS_MS = 1500
const REQUEST_MS = 3000
const KEEP_ALIVE_MS = 1000
/** Node checks every headersTimeout / 20 ms here (75 ms); the rest is scheduling slack on a busy machine. */
const MARGIN_MS = 1000

let h: Harness

beforeAll(async () => {
  h = await startHarness({
    config: { http: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, keepAliveTimeoutMs: KEEP_ALIVE_MS } },
  })
})
afterAll(async () => {
  await h?.close()
})

interface Closed {
  /** Milliseconds from the first byte sent to the server closing the connection. */
  ms: number
  received: string
}

/**
 * Opens a raw connection, sends `first`, then `trickle` every `everyMs` (one piece at a time,
 * never finishing the request) until the server closes the connection or `giveUpMs` passes.
 */
function slowClient(first: string, trickle: string | undefined, everyMs: number, giveUpMs: number): Promise<Closed> {
  const port = new URL(h.baseURL).port
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    let received = ''
    let start = 0
    let timer: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => {
      clearInterval(timer)
      socket.destroy()
      reject(new Error(`the server still held the connection after ${giveUpMs} ms`))
    }, giveUpMs)
    socket.on('connect', () => {
      start = performance.now()
      socket.write(first)
      if (trickle !== undefined) timer = setInterval(() => socket.writable && socket.write(trickle), everyMs)
    })
    socket.on('data', (d: Buffer) => (received += d.toString()))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      clearTimeout(giveUp)
      resolve({ ms: performance.now() - start, received })
    })
  })
}

describe('HTTP timeouts', () => {
  it('answers a client that trickles its headers 408 once the headers timeout has passed, not before', async () => {
    const closed = await slowClient('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n', 200, HEADERS_MS + 5000)
    expect(closed.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    expect(closed.received).toContain('{"name":"REQUEST_TIMEOUT"')
    expect(closed.ms).toBeGreaterThanOrEqual(HEADERS_MS - 50)
    expect(closed.ms).toBeLessThanOrEqual(HEADERS_MS + MARGIN_MS)
  })

  it('answers a request whose body does not arrive within the request timeout 408', async () => {
    const head = `POST /v1/auth/authorize HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${h.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{`
    const closed = await slowClient(head, ' ', 200, REQUEST_MS + 5000)
    expect(closed.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    expect(closed.ms).toBeGreaterThanOrEqual(REQUEST_MS - 50)
    expect(closed.ms).toBeLessThanOrEqual(REQUEST_MS + MARGIN_MS)
  })

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const closed = await slowClient('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', undefined, 0, KEEP_ALIVE_MS + 5000)
    expect(closed.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(closed.received).toMatch(/\r\nkeep-alive: timeout=1\r\n/i)
    // Node closes the socket 1 s after the advertised timeout (a grace for the client's own timer).
    expect(closed.ms).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50)
    expect(closed.ms).toBeLessThanOrEqual(KEEP_ALIVE_MS + 1000 + MARGIN_MS)
  })

  it('does not cut a status long-poll that lasts longer than the request timeout', async () => {
    const started = await fetch(`${h.baseURL}/v1/auth/authorize`, {
      method: 'POST',
      headers: { authorization: h.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'long-poller', auth_requirement: { provider_id: 'test-idp', oauth2: { scopes: ['openid'] } } }),
    })
    const { id } = (await started.json()) as { id: string }
    const waitS = Math.ceil((REQUEST_MS + 1000) / 1000)
    const t0 = performance.now()
    const r = await fetch(`${h.baseURL}/v1/auth/status?id=${id}&wait=${waitS}`, { headers: { authorization: h.apiKey } })
    expect(r.status).toBe(200)
    expect(((await r.json()) as { status: string }).status).toBe('pending')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(waitS * 1000 - 100)
  })
})

describe('HTTP timeout settings', () => {
  it('default to 20 s for headers, 30 s for the request and 72 s keep-alive, and refuse headers longer than the request', () => {
    expect(loadConfig({ env: {}, cwd: '/nonexistent' }).http).toEqual({
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
    })
    const env = { LATCHKEY_HEADERS_TIMEOUT_MS: '5000', LATCHKEY_REQUEST_TIMEOUT_MS: '8000', LATCHKEY_KEEP_ALIVE_TIMEOUT_MS: '4000' }
    expect(loadConfig({ env, cwd: '/nonexistent' }).http).toEqual({
      headersTimeoutMs: 5000,
      requestTimeoutMs: 8000,
      keepAliveTimeoutMs: 4000,
    })
    expect(() => loadConfig({ env: { LATCHKEY_HEADERS_TIMEOUT_MS: '40000' }, cwd: '/nonexistent' })).toThrow(ConfigError)
  })
})
