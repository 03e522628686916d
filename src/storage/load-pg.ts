/**
 * @module storage/load-pg
 * The PostgreSQL driver, loaded when a PostgreSQL URL is opened: a SQLite start does not load
 * its ~40 modules (start-up time). `pg` is CommonJS, so a synchronous require.
 */
import { createRequire } from 'node:module'
import type pg from 'pg'

let loaded: typeof pg | undefined

export function loadPg(): typeof pg {
  loaded ??= createRequire(import.meta.url)('pg') as typeof pg
  return loaded
}
