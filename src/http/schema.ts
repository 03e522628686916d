/**
 * @module http/schema
 * Zod schemas as JSON Schema for Fastify's compiled validator (ajv), and ajv's errors as the
 * same `invalid request: <field>: <problem>` message a zod error gives.
 */
import { z } from 'zod'

export const PRINTABLE_MESSAGE = 'must not contain control characters or unpaired surrogates'

/** Draft-07 JSON Schema of what `schema` accepts (ajv's default dialect). */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>
  return rest
}

export interface SchemaIssue {
  instancePath: string
  keyword: string
  message?: string | undefined
  params: Record<string, unknown>
}

/** `user_id: must be string`, `auth_requirement: required`, `auth_requirement.oauth2.scopes[0]: …`. */
export function describeIssue(issue: SchemaIssue): string {
  const path = issue.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
  if (issue.keyword === 'required' && typeof issue.params['missingProperty'] === 'string') path.push(issue.params['missingProperty'])
  const where = path.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '') || 'body'
  const problem = issue.keyword === 'required' ? 'required' : issue.keyword === 'pattern' ? PRINTABLE_MESSAGE : (issue.message ?? 'invalid')
  return `${where}: ${problem}`
}
