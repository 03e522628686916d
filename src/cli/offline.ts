/**
 * @module cli/offline
 * Runs a CLI command against the configured database directly (no server needed): opens
 * Latchkey without listening and without background jobs, then closes it.
 */
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { createLatchkey, type Latchkey } from '../server.js'

export interface GlobalOptions {
  config?: string
}

export async function withLatchkey<T>(opts: GlobalOptions, fn: (latchkey: Latchkey) => Promise<T>): Promise<T> {
  const config = loadConfig({ overrides: { ...(opts.config ? { configFile: opts.config } : {}) } })
  config.backgroundRefresh = { ...config.backgroundRefresh, enabled: false }
  // A one-off command does not deliver webhooks (the servers do); events it causes wait in the outbox.
  config.webhooks = { ...config.webhooks, deliver: false }
  const latchkey = await createLatchkey(config, {
    logger: createLogger(process.env['LATCHKEY_LOG_LEVEL'] ?? 'warn'),
    bootstrapApiKey: false,
  })
  try {
    return await fn(latchkey)
  } finally {
    await latchkey.close()
  }
}

/** Prints rows as an aligned table (or JSON with --json). */
export function printTable<Row extends object>(rows: Row[], json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
    return
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n')
    return
  }
  const cols = Object.keys(rows[0]!) as Array<keyof Row>
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v))
  const widths = cols.map((c) => Math.max(String(c).length, ...rows.map((r) => cell(r[c]).length)))
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  process.stdout.write(`${line(cols.map((c) => String(c).toUpperCase()))}\n`)
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => cell(r[c])))}\n`)
}
