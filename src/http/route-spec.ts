/**
 * @module http/route-spec
 * One declaration per API route: method, path, summary, the zod schemas of its parameters,
 * body and responses, and the error codes it can answer with. The route module registers its
 * Fastify handler from the declaration (`register`) and `http/openapi.ts` builds the published
 * document from the same objects, so neither can name a path, method or schema the other lacks.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import type { z } from 'zod'
import type { ErrorCode } from '../errors.js'

/** Who may call a route: anyone, a runtime (or admin) API key, an admin API key. */
export type Access = 'public' | 'runtime' | 'admin'

export interface ResponseSpec {
  description: string
  /** The JSON body; absent for a body-less answer (204). */
  schema?: z.ZodType
  headers?: z.ZodObject
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS'
  /** Fastify's syntax (`/v1/admin/api_keys/:id`); the document writes `{id}`. */
  path: string
  operationId: string
  summary: string
  description?: string
  tag: string
  access: Access
  params?: z.ZodObject
  query?: z.ZodObject
  /** Request headers the route reads (documented only; the handler checks them). */
  headers?: z.ZodObject
  body?: z.ZodType
  /** Success answers by status. */
  responses: Readonly<Record<number, ResponseSpec>>
  /**
   * Codes this route's handler and broker calls can answer with. The codes every route of its
   * kind shares (API key, body parsing, server error) are added by `http/openapi.ts`.
   */
  errors: readonly ErrorCode[]
}

export const defineRoute = <const S extends RouteSpec>(spec: S): S => spec

/** The body a route sends with its success status `status`, as its declaration says. */
export type ResponseBody<S extends RouteSpec, Status extends keyof S['responses']> = S['responses'][Status] extends {
  schema: infer T extends z.ZodType
}
  ? z.infer<T>
  : undefined

type Params<S extends RouteSpec> = S['params'] extends z.ZodObject ? z.infer<S['params']> : Record<string, never>

/** Success bodies with a schema; answers with another status go through `reply` (typed with `satisfies`). */
type Returned<S extends RouteSpec> = { [K in keyof S['responses']]: ResponseBody<S, K> }[keyof S['responses']]

export type RouteHandler<S extends RouteSpec> = (
  request: FastifyRequest<{ Params: Params<S> }>,
  reply: FastifyReply,
) => Returned<S> | FastifyReply | undefined | Promise<Returned<S> | FastifyReply | undefined>

/**
 * Registers `handler` at the declaration's method and path. `schema` is Fastify's own (the
 * compiled body validator of the hot path); response schemas are never given to Fastify, so
 * the document adds no serialisation or validation to any answer.
 */
export function register<S extends RouteSpec>(
  app: FastifyInstance,
  spec: S,
  handler: RouteHandler<S>,
  options: { schema?: FastifySchema } = {},
): void {
  app.route<{ Params: Params<S> }>({ method: spec.method, url: spec.path, ...options, handler })
}

/**
 * True only when A and B are the same type (not merely assignable: an extra optional field on
 * either side makes it false). Pins a broker type to the schema the document publishes for it.
 */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
