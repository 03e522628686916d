/**
 * The error catalog decides how each code is rendered: its status, whether its message is shown
 * (`expose`) and whether clients are told not to retry (`retry`). Each code is thrown from a real
 * Fastify route with the real error handler and the answer is read back.
 */
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERROR_CODES, type ErrorCode, type ErrorSpec, LatchkeyError } from '../../src/errors.js'
import { errorHandler } from '../../src/http/error-handler.js'

const app = Fastify({ logger: false })
app.setErrorHandler(errorHandler)
app.get<{ Params: { code: string } }>('/throw/:code', async (req) => {
  throw new LatchkeyError(req.params.code as ErrorCode, `message of ${req.params.code}`)
})
beforeAll(() => app.ready())
afterAll(() => app.close())

const codes = Object.keys(ERROR_CODES) as ErrorCode[]

describe('error catalog', () => {
  it.each(codes)('%s answers with its status, shows its message only when exposed, and marks non-retryable errors', async (code) => {
    const spec = ERROR_CODES[code]
    const res = await app.inject({ method: 'GET', url: `/throw/${code}` })
    const body = res.json() as { name: string; message: string }
    if (spec.expose) {
      expect(res.statusCode).toBe(spec.status)
      expect(body).toEqual({ name: code, message: `message of ${code}` })
    } else {
      expect(res.statusCode).toBe(500)
      expect(body.name).toBe('SERVER_ERROR')
      expect(body.message).not.toContain('message of')
    }
    const retriedBySdk = [408, 409, 429].includes(res.statusCode) || res.statusCode >= 500
    const entry: ErrorSpec = spec
    expect(res.headers['x-should-retry']).toBe(
      retriedBySdk && !spec.retry ? 'false' : entry.retryAfterSeconds !== undefined ? 'true' : undefined,
    )
    expect(res.headers['retry-after']).toBe(entry.retryAfterSeconds === undefined ? undefined : String(entry.retryAfterSeconds))
  })

  // The rules the catalog used to encode in code, pinned by name so an edit to an entry is deliberate.
  it('shows operator-facing 5xx messages and lets only outages be retried', () => {
    const fiveHundreds = codes.filter((c) => ERROR_CODES[c].status >= 500)
    expect(fiveHundreds.filter((c) => ERROR_CODES[c].expose).sort()).toEqual([
      'MCP_SERVER_REFUSED',
      'PROVIDER_MISCONFIGURED',
      'PROVIDER_UNAVAILABLE',
      'UNAVAILABLE',
      'UPSTREAM_REFUSED',
    ])
    // Each needs the operator (client credentials; outbound.allow_private; an MCP server's metadata):
    // a retry changes nothing.
    expect(fiveHundreds.filter((c) => !ERROR_CODES[c].retry).sort()).toEqual([
      'MCP_SERVER_REFUSED',
      'PROVIDER_MISCONFIGURED',
      'UPSTREAM_REFUSED',
    ])
    expect(codes.filter((c) => ERROR_CODES[c].status < 500).every((c) => ERROR_CODES[c].expose)).toBe(true)
    expect(ERROR_CODES.UNAVAILABLE).toMatchObject({ status: 503, retry: true })
  })

  it('lets a LatchkeyError carry the catalog entry it was built from', () => {
    const e = new LatchkeyError('PROVIDER_MISCONFIGURED', 'x')
    expect([e.status, e.expose]).toEqual([502, true])
    expect(new LatchkeyError('SERVER_ERROR', 'x').expose).toBe(false)
  })
})
