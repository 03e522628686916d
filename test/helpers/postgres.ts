/**
 * Real PostgreSQL for tests. The server is expected at 127.0.0.1:5432 with trust auth (as on the
 * development machines and in CI); set `LATCHKEY_TEST_POSTGRES_URL` to point at another server
 * (it must name a database the user may connect to, and the user must be allowed to create
 * databases).
 *
 * API (keep it small, other suites rely on it):
 * - `describePostgres(name, fn)`: `describe` that needs PostgreSQL. When the server is not
 *   reachable it skips the suite with a warning, except when `CI` is set (`CI=true`) or
 *   `LATCHKEY_REQUIRE_POSTGRES=1`, where the suite fails with a test explaining why.
 * - `createTestDatabase()`: a fresh, uniquely named database; `drop()` removes it (ending any
 *   connection still open to it). Call it in `beforeAll`/`beforeEach` inside `describePostgres`.
 * - `postgresAvailable()`: whether the server answers (checked once per process).
 * - `postgresAdminUrl`: the URL used to reach the server.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { describe, it } from 'vitest'

/** The maintenance connection used to create and drop test databases. */
export const postgresAdminUrl = process.env['LATCHKEY_TEST_POSTGRES_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres'

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string
  /** Name of the new database. */
  name: string
  /** Terminates connections still open to the database and drops it. Safe to call twice. */
  drop(): Promise<void>
}

/** True when PostgreSQL must be there: in CI, or when `LATCHKEY_REQUIRE_POSTGRES=1`. */
export function postgresRequired(): boolean {
  const ci = process.env['CI']
  return (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') || process.env['LATCHKEY_REQUIRE_POSTGRES'] === '1'
}

let availability: Promise<{ ok: true } | { ok: false; reason: string }> | undefined

function probe(): Promise<{ ok: true } | { ok: false; reason: string }> {
  availability ??= (async () => {
    const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 3000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('select 1')
      return { ok: true as const }
    } catch (err) {
      return { ok: false as const, reason: (err as Error).message || String(err) }
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return availability
}

/** Whether the PostgreSQL server at `postgresAdminUrl` accepts connections (cached). */
export async function postgresAvailable(): Promise<boolean> {
  return (await probe()).ok
}

/** The admin URL without its password, for messages. */
function displayUrl(): string {
  try {
    const u = new URL(postgresAdminUrl)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(invalid LATCHKEY_TEST_POSTGRES_URL)'
  }
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Creates a fresh database named `latchkey_test_<time>_<random>` on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `latchkey_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  await withAdmin(async (client) => {
    // Concurrent CREATE DATABASE from the same template can briefly conflict on older servers.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`create database "${name}"`)
        return
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 10) throw err
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
      }
    }
  })
  const u = new URL(postgresAdminUrl)
  u.pathname = `/${name}`
  let dropped = false
  return {
    url: u.toString(),
    name,
    async drop() {
      if (dropped) return
      dropped = true
      await withAdmin(async (client) => {
        for (let attempt = 1; ; attempt++) {
          await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
            name,
          ])
          try {
            await client.query(`drop database if exists "${name}"`)
            return
          } catch (err) {
            // 55006: a connection slipped in (e.g. a reconnecting listener) between terminate and drop.
            if ((err as { code?: string }).code !== '55006' || attempt >= 10) throw err
            await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
          }
        }
      })
    },
  }
}

/**
 * `describe` for suites that need PostgreSQL. Unreachable server: skipped with a warning, or a
 * failing test when PostgreSQL is required (`CI` set, or `LATCHKEY_REQUIRE_POSTGRES=1`).
 */
export function describePostgres(name: string, fn: () => void): void {
  describe(name, async () => {
    const result = await probe()
    if (result.ok) {
      fn()
      return
    }
    const message = `PostgreSQL not reachable at ${displayUrl()} (${result.reason})`
    if (postgresRequired()) {
      it('requires a reachable PostgreSQL', () => {
        throw new Error(
          `${message}; PostgreSQL is required here (CI or LATCHKEY_REQUIRE_POSTGRES=1). Start it or set LATCHKEY_TEST_POSTGRES_URL.`,
        )
      })
      return
    }
    console.warn(`${message}: skipping PostgreSQL tests`)
    describe.skip(name, fn)
  })
}
