/**
 * The one place tests get ports from.
 *
 * Ports are drawn below Linux's ephemeral range (32768–60999): a port the OS picked with
 * `listen(0)` can be taken by any outgoing connection's local end between a probe and the bind.
 * The range 20000–31999 is split into one slice per vitest worker (`VITEST_POOL_ID`), so two test
 * files running in parallel never draw the same port: a probe only proves a port free *now*, and
 * a file that probed and released a port could lose it to the other worker before binding it
 * (seen in CI as EADDRINUSE when each file drew from its own random range).
 */
import { createServer, type Server } from 'node:net'

// LATCHKEY_TEST_PORT_RANGE=first-last narrows the range, for two test runs side by side on one machine.
const [FIRST, LAST] = (process.env.LATCHKEY_TEST_PORT_RANGE || '20000-31999').split('-').map(Number) as [number, number]
const SLICES = 4 // vitest runs two workers (vitest.config.ts); spare slices for a larger machine
const SLICE = Math.floor((LAST - FIRST + 1) / SLICES)
const pool = Math.max(1, Number(process.env.VITEST_POOL_ID ?? 1) || 1)
const base = FIRST + ((pool - 1) % SLICES) * SLICE
const handedOut = new Set<number>()

function candidate(): number {
  for (;;) {
    const port = base + Math.floor(Math.random() * SLICE)
    if (!handedOut.has(port)) return port
  }
}

/** A port this worker has not handed out and nothing listens on now, for a server that binds it later. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = candidate()
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    handedOut.add(port)
    if (free) return port
  }
  throw new Error(`no free port in ${base}–${base + SLICE - 1}`)
}

/** Binds `server` to a port of this worker's slice (no probe: the bind itself is the test) and returns it. */
export async function listenOnFreePort(server: Pick<Server, 'listen' | 'once' | 'off'>, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = candidate()
    handedOut.add(port)
    const ok = await new Promise<boolean>((resolve) => {
      const onError = () => resolve(false)
      server.once('error', onError)
      server.listen(port, host, () => {
        server.off('error', onError)
        resolve(true)
      })
    })
    if (ok) return port
  }
  throw new Error(`no free port in ${base}–${base + SLICE - 1}`)
}
