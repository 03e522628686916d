/**
 * @module http/schema
 * Zod schemas as JSON Schema for Fastify's compiled validator (ajv), and ajv's errors as the
 * same `invalid request: <field>: <problem>` message a zod error gives.
 */
import { z } from 'zod'

/** secure-json-parse refuses `__proto__` / `constructor.prototype` keys (prototype poisoning): every JSON body, fast path or Fastify. */
export const JSON_PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const

// biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern exists to find them
const PRINTABLE = /^[^\u0000-\u001f\u007f\ud800-\udfff]*$/u
const PRINTABLE_MESSAGE = 'must not contain control characters or unpaired surrogates'
/** JSON Schema keeps a pattern but not its message: the messages of the patterns we use, by source. */
const PATTERN_MESSAGES: Readonly<Record<string, string>> = { [PRINTABLE.source]: PRINTABLE_MESSAGE }

/**
 * Printable text: no control characters (ids end up in logs, pages and SQL parameters) and no
 * unpaired surrogates, which UTF-8 storage turns into U+FFFD ("a\ud800" and "a\udc00" would be
 * one user). In unicode mode a surrogate pair is one code point, so the range only matches
 * unpaired ones. A regex rather than a refinement, so schemas using it convert to JSON Schema.
 */
export const printable = (max: number) => z.string().min(1).max(max).regex(PRINTABLE, PRINTABLE_MESSAGE)

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
  const pattern = issue.keyword === 'pattern' ? PATTERN_MESSAGES[String(issue.params['pattern'])] : undefined
  const problem = issue.keyword === 'required' ? 'required' : (pattern ?? issue.message ?? 'invalid')
  return `${where}: ${problem}`
}

/** Arcade's offset page (wire doc §8): `{items, limit, offset, page_count, total_count}`. */
export const offsetPage = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    limit: z.number().int(),
    offset: z.number().int(),
    page_count: z.number().int().meta({ description: 'Items on this page.' }),
    total_count: z.number().int().meta({ description: 'Items matching the filter, on all pages.' }),
  })

/** A time as the API writes it (`Date#toISOString`), or null when it has not happened. */
export const isoTime = () => z.iso.datetime()
export const isoTimeOrNull = () => isoTime().nullable()
