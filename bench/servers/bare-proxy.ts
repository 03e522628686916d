/**
 * The floor for the proxy scenario: a bare `node:http` server that forwards every request to the
 * upstream through an undici `Agent` (`request()`, kept-alive connections) and pipes the answer
 * back — no routing, no API key, no connection, no guard, no audit. Whatever Latchkey's proxy
 * costs beyond this is its own; what this costs over calling the upstream directly is what any
 * Node.js proxy with this client pays.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, type Dispatcher } from 'undici'
import { listenOnFreePort } from '../../test/helpers/ports.js'
import { childArgs, serveChild } from '../lib/child.js'

export interface BareProxyArgs {
  upstream: string
}

export interface BareProxyInfo {
  url: string
}

serveChild<BareProxyInfo>(async () => {
  const { upstream } = childArgs<BareProxyArgs>()
  const agent = new Agent()
  const server = createServer((req, res) => {
    agent
      .request({
        origin: upstream,
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: { accept: req.headers.accept ?? '*/*', authorization: 'Bearer bench' },
      })
      .then(
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers as Record<string, string>)
          answer.body.pipe(res)
        },
        () => {
          res.writeHead(502)
          res.end()
        },
      )
  })
  await listenOnFreePort(server)
  const { port } = server.address() as AddressInfo
  return {
    info: { url: `http://127.0.0.1:${port}` },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await agent.close()
    },
  }
})
