/**
 * @module http/request-id
 * Request ids only tie log lines together: a random per-process prefix and a counter, shared by
 * Fastify (`genReqId`) and the fast path, so ids stay unique across both.
 */
import { randomUUID } from 'node:crypto'

const prefix = randomUUID().slice(0, 8)
let seq = 0

export const nextRequestId = (): string => `${prefix}${(++seq).toString(36)}`
