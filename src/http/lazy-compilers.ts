/**
 * @module http/lazy-compilers
 * Fastify's own schema compilers (ajv for validation, fast-json-stringify for serialisation),
 * loaded and run on first use instead of at start. Fastify requires both packages when the app
 * is created and compiles every route schema before it listens: loading ajv and compiling the
 * one Fastify-validated schema (the authorize body) were ~a quarter of `latchkey serve`'s CPU
 * up to the first ready answer (`--cpu-prof`). Now the body validator is compiled by the first
 * request that needs it, with the same compiler and the same ajv options as before.
 *
 * A custom validator factory makes Fastify stop lower-casing `headers` schemas for the compiler;
 * no route gives Fastify a headers schema (proxy and admin routes read their headers themselves).
 */
import { createRequire } from 'node:module'
import type { FastifyServerOptions } from 'fastify'

type Factories = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type BuildValidator = NonNullable<Factories['buildValidator']>
type BuildSerializer = NonNullable<Factories['buildSerializer']>
type Validate = ((...args: unknown[]) => unknown) & { errors?: unknown }

// Resolved from Fastify's own folder: the exact compiler packages this Fastify depends on.
const fromFastify = () => createRequire(createRequire(import.meta.url).resolve('fastify'))

/** Route schemas validate exactly what they say: no type coercion, no defaults, nothing removed. */
export const AJV_OPTIONS = {
  customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false },
} as const

/**
 * A body validator compiled by Fastify's own compiler with the app's ajv options: what the fast
 * path (`fast-authorize.ts`) checks is what the route's schema checks. Compiled on first call.
 */
export function bodyValidator(schema: Record<string, unknown>, method: string, url: string): (body: unknown) => boolean {
  let compiled: Validate | undefined
  return (body) => {
    if (compiled === undefined) {
      const build = fromFastify()('@fastify/ajv-compiler') as () => BuildValidator
      const compile = build()({}, AJV_OPTIONS as never) as unknown as (route: unknown) => Validate
      compiled = compile({ schema, method, url, httpPart: 'body' })
    }
    return compiled(body) === true
  }
}

export function lazySchemaCompilers(): NonNullable<FastifyServerOptions['schemaController']> {
  let defaultValidator: BuildValidator | undefined
  let defaultSerializer: BuildSerializer | undefined
  const buildValidator = ((externalSchemas, options) => {
    let compiler: ((route: unknown) => Validate) | undefined
    return (route: unknown) => {
      let compiled: Validate | undefined
      const validate: Validate = function (this: unknown, ...args: unknown[]) {
        if (compiled === undefined) {
          defaultValidator ??= (fromFastify()('@fastify/ajv-compiler') as () => BuildValidator)()
          compiler ??= defaultValidator(externalSchemas, options) as unknown as (route: unknown) => Validate
          compiled = compiler(route)
        }
        return compiled.apply(this, args)
      }
      // Fastify reads `errors` after a failed (or an async) validation: the compiled function's own.
      Object.defineProperty(validate, 'errors', { get: () => compiled?.errors })
      return validate
    }
  }) as BuildValidator
  // Fastify asks for a serializer only for a route with response schemas, or `reply.serialize…`.
  const buildSerializer = ((externalSchemas, options) => {
    defaultSerializer ??= (fromFastify()('@fastify/fast-json-stringify-compiler') as () => BuildSerializer)()
    return defaultSerializer(externalSchemas, options)
  }) as BuildSerializer
  return { compilersFactory: { buildValidator, buildSerializer } }
}
