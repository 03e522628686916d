/**
 * @module strict-schema
 * Objects in the configuration refuse keys they do not know, with a "did you mean" for typos:
 * a misspelt key (`auht:`, `scope_delimeter:`) used to be ignored and the server started with a
 * default nobody chose. Shared by `config.ts` and the provider entry schema (admin API too).
 */
import { z } from 'zod'

/** Levenshtein distance (two rows; configuration keys are short). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]!
}

/** The closest candidate within a third of the word's length (at least 2 edits), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3))
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return bestDistance <= limit ? best : undefined
}

function suggestion(word: string, candidates: readonly string[]): string {
  const near = closest(word, candidates)
  return near ? `did you mean ${JSON.stringify(near)}?` : `known: ${candidates.join(', ')}`
}

/** `z.strictObject` whose unknown-key error names each key and the nearest known one. */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape)
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => `unknown key ${JSON.stringify(k)} (${suggestion(k, known)})`).join('; ')
        : undefined,
  })
}

/** `z.enum` whose error for a misspelt value suggests the nearest allowed one. */
export function strictEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) =>
      issue.code === 'invalid_value' && typeof issue.input === 'string'
        ? `${JSON.stringify(issue.input)} is not one of ${values.map((v) => JSON.stringify(v)).join(', ')} (${suggestion(issue.input, values)})`
        : undefined,
  })
}
