/**
 * Baseline: a bare `node:http` server answering every request with a small JSON body. Whatever
 * Latchkey does beyond this (routing, auth, validation, storage, crypto) is its overhead.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { listenOnFreePort } from '../../test/helpers/ports.js'
import { serveChild } from '../lib/child.js'

export interface BareInfo {
  url: string
}

serveChild<BareInfo>(async () => {
  const server = createServer((req, res) => {
    // Read (and drop) a request body like any real handler would.
    req.resume()
    req.on('end', () => {
      const body = JSON.stringify({ healthy: true })
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  await listenOnFreePort(server)
  const { port } = server.address() as AddressInfo
  return {
    info: { url: `http://127.0.0.1:${port}` },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
})
