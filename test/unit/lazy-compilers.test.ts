import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { lazySchemaCompilers } from '../../src/http/lazy-compilers.js'

const ajv = { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } }

describe('lazySchemaCompilers', () => {
  it('compiles a route body schema on the first request, not before listening, and validates as ajv does', async () => {
    const app = Fastify({ ajv, schemaController: lazySchemaCompilers() })
    const body = { type: 'object', required: ['user_id'], properties: { user_id: { type: 'string' } }, additionalProperties: false }
    app.post('/ok', { schema: { body } }, async (request) => request.body)
    // A schema ajv cannot compile: Fastify's default compiler refuses it at ready(); here only its first request fails.
    app.post('/broken', { schema: { body: { type: 'object', properties: { a: { $ref: '#/nowhere' } } } } }, async () => 'unreachable')
    await app.ready()
    try {
      const good = await app.inject({ method: 'POST', url: '/ok', payload: { user_id: 'alice' } })
      expect(good.statusCode).toBe(200)
      expect(good.json()).toEqual({ user_id: 'alice' })
      const bad = await app.inject({ method: 'POST', url: '/ok', payload: { user_id: 7 } })
      expect(bad.statusCode).toBe(400)
      expect(bad.json().message).toBe('body/user_id must be string')
      const extra = await app.inject({ method: 'POST', url: '/ok', payload: { user_id: 'a', x: 1 } })
      expect(extra.statusCode).toBe(400)
      const broken = await app.inject({ method: 'POST', url: '/broken', payload: { a: 1 } })
      expect(broken.statusCode).toBe(500)
    } finally {
      await app.close()
    }
  })

  it('the same app with Fastify’s default compilers refuses that schema before listening (what the test above relies on)', async () => {
    const app = Fastify({ ajv })
    app.post('/broken', { schema: { body: { type: 'object', properties: { a: { $ref: '#/nowhere' } } } } }, async () => 'unreachable')
    await expect(app.ready()).rejects.toThrow(/Failed building the validation schema/)
  })
})
