/**
 * A stand-in for a provider's API on 127.0.0.1, for the proxy tests: it checks each bearer
 * token against the real test OAuth server's userinfo endpoint (so only a token the IdP issued
 * passes), can be told to reject given tokens (as an API does once a token is revoked on its
 * side), records what it received, and serves a few behaviours (echo, big body, a never-ending stream, no answer, redirect).
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { listenOnFreePort } from './ports.js'

export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  bodyBytes: number
  bodySha256: string
  body: string
}

export interface UpstreamApi {
  base: string
  received: Received[]
  /** Tokens answered with 401 regardless of what the IdP says. */
  rejected: Set<string>
  /** Answers of `/slow` and `/hang` still open (they end when the caller goes away). */
  open(): number
  close(): Promise<void>
}

/** `userinfoUrl` is read on the first call (the IdP may start after this server). Listens on `host` (default 127.0.0.1) at a port of 25000–25999 (this suite's range). */
export async function startUpstreamApi(userinfoUrl: () => string, host = '127.0.0.1'): Promise<UpstreamApi> {
  const received: Received[] = []
  const rejected = new Set<string>()
  const valid = new Map<string, boolean>()
  const slow = new Set<ServerResponse>()
  const checkToken = async (auth: string | undefined): Promise<boolean> => {
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
    if (token === undefined || rejected.has(token)) return false
    if (!valid.has(token)) valid.set(token, (await fetch(userinfoUrl(), { headers: { authorization: `Bearer ${token}` } })).status === 200)
    return valid.get(token)!
  }
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const hash = createHash('sha256')
    let bodyBytes = 0
    const keep: Buffer[] = []
    for await (const chunk of req) {
      const b = chunk as Buffer
      bodyBytes += b.length
      hash.update(b)
      if (bodyBytes <= 64 * 1024) keep.push(b)
    }
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      bodyBytes,
      bodySha256: hash.digest('hex'),
      body: Buffer.concat(keep).toString(),
    })
    if (!(await checkToken(req.headers.authorization))) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' })
      res.end(JSON.stringify({ message: 'Bad credentials' }))
      return
    }
    const path = url.pathname.replace(/^\/api/, '')
    if (path.startsWith('/big/')) {
      const size = Number(path.slice(5))
      const chunk = Buffer.alloc(64 * 1024, 7)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) })
      let left = size
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length)
          left -= n
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
      return
    }
    if (path === '/slow') {
      // Headers and one chunk, then nothing until the caller goes away: a long stream (SSE, a watch).
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: first\n\n')
      slow.add(res)
      res.once('close', () => slow.delete(res))
      return
    }
    if (path === '/hang') {
      // No answer at all until the caller goes away.
      slow.add(res)
      res.once('close', () => slow.delete(res))
      return
    }
    if (path === '/redirect') {
      res.writeHead(302, { location: 'https://elsewhere.example/' })
      res.end()
      return
    }
    // Headers a proxy must not pass back: cookies, hop-by-hop, and one that echoes the credential.
    const body = JSON.stringify({
      ok: true,
      method: req.method,
      path: url.pathname,
      query: url.search,
      bodyBytes,
      bodySha256: received.at(-1)!.bodySha256,
    })
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'set-cookie': 'session=upstream-session; HttpOnly',
      'keep-alive': 'timeout=5',
      'x-echo-authorization': req.headers.authorization ?? '',
      'x-request-path': url.pathname,
      'x-upstream': 'yes',
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500)
      res.end(String(err))
    })
  })
  const port = await listenOnFreePort(server, host)
  return {
    base: `http://${host}:${port}`,
    received,
    rejected,
    open: () => slow.size,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
