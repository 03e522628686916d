/**
 * @module oauth/expressions
 * Arcade's `response_map` value language: simple JSONPath (`$.a.b[0]`), `join(expr, 'delim')`
 * and `jwt_decode(expr, '$.claim')`, nestable. Parsed once, evaluated per response.
 */

export type Evaluator = (body: unknown) => unknown

const cache = new Map<string, Evaluator>()

/** Compiles an expression; throws a TypeError naming the problem for invalid syntax. */
export function compileExpression(expr: string): Evaluator {
  const cached = cache.get(expr)
  if (cached) return cached
  const parser = new Parser(expr)
  const evaluator = parser.parseExpr()
  parser.skipSpace()
  if (!parser.done()) throw new TypeError(`unexpected ${JSON.stringify(expr.slice(parser.pos))} in expression ${JSON.stringify(expr)}`)
  cache.set(expr, evaluator)
  return evaluator
}

export function evaluate(expr: string, body: unknown): unknown {
  return compileExpression(expr)(body)
}

class Parser {
  pos = 0
  constructor(readonly src: string) {}

  done(): boolean {
    return this.pos >= this.src.length
  }

  skipSpace(): void {
    while (this.src[this.pos] === ' ') this.pos++
  }

  parseExpr(): Evaluator {
    this.skipSpace()
    if (this.src.startsWith('$', this.pos)) return this.parsePath()
    const m = /^(join|jwt_decode)\s*\(/.exec(this.src.slice(this.pos))
    if (!m) throw new TypeError(`expression ${JSON.stringify(this.src)} must start with $ or join( or jwt_decode(`)
    this.pos += m[0].length
    const inner = this.parseArg()
    this.expect(',')
    const second = this.parseString()
    this.expect(')')
    if (m[1] === 'join') {
      return (body) => {
        const v = inner(body)
        return Array.isArray(v) ? v.map(String).join(second) : v
      }
    }
    const claim = compileExpression(second)
    return (body) => {
      const token = inner(body)
      if (typeof token !== 'string') return undefined
      const payload = token.split('.')[1]
      if (!payload) return undefined
      try {
        return claim(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')))
      } catch {
        return undefined
      }
    }
  }

  /** An argument is a nested expression or a quoted string holding one. */
  parseArg(): Evaluator {
    this.skipSpace()
    const c = this.src[this.pos]
    if (c === "'" || c === '"') return compileExpression(this.parseString())
    return this.parseExpr()
  }

  parseString(): string {
    this.skipSpace()
    const quote = this.src[this.pos]
    if (quote !== "'" && quote !== '"') throw new TypeError(`expected a quoted string at ${this.pos} in ${JSON.stringify(this.src)}`)
    const end = this.src.indexOf(quote, this.pos + 1)
    if (end < 0) throw new TypeError(`unterminated string in ${JSON.stringify(this.src)}`)
    const s = this.src.slice(this.pos + 1, end)
    this.pos = end + 1
    return s
  }

  expect(ch: string): void {
    this.skipSpace()
    if (this.src[this.pos] !== ch) throw new TypeError(`expected ${JSON.stringify(ch)} at ${this.pos} in ${JSON.stringify(this.src)}`)
    this.pos++
  }

  parsePath(): Evaluator {
    const m = /^\$((?:\.[A-Za-z0-9_\-:]+|\[\d+\]|\[(?:'[^']*'|"[^"]*")\])*)/.exec(this.src.slice(this.pos))!
    this.pos += m[0].length
    const steps: Array<string | number> = []
    for (const part of m[1]!.matchAll(/\.([A-Za-z0-9_\-:]+)|\[(\d+)\]|\[(?:'([^']*)'|"([^"]*)")\]/g)) {
      steps.push(part[2] !== undefined ? Number(part[2]) : (part[1] ?? part[3] ?? part[4])!)
    }
    return (body) => {
      let cur: unknown = body
      for (const step of steps) {
        if (cur === null || typeof cur !== 'object') return undefined
        if (typeof step === 'string' && !Object.hasOwn(cur, step)) return undefined
        cur = (cur as Record<string | number, unknown>)[step]
      }
      return cur
    }
  }
}
