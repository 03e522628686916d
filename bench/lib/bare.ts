import { fileURLToPath } from 'node:url'
import type { BareInfo } from '../servers/bare.js'
import type { FastifyInfo } from '../servers/fastify.js'
import { type ChildServer, forkServer } from './child.js'

/** The bare `node:http` baseline in its own process. */
export function startBare(): Promise<ChildServer<BareInfo>> {
  return forkServer<BareInfo>(fileURLToPath(new URL('../servers/bare.ts', import.meta.url)))
}

/** A one-route Fastify app in its own process (framework cost without Latchkey's work). */
export function startFastify(): Promise<ChildServer<FastifyInfo>> {
  return forkServer<FastifyInfo>(fileURLToPath(new URL('../servers/fastify.ts', import.meta.url)))
}
