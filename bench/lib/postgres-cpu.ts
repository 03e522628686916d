/**
 * PostgreSQL's own CPU for one database: the backends connected to it (pool, listener and
 * publisher connections of every Latchkey process), read from `/proc/<pid>/stat` — so this only
 * works when PostgreSQL runs on this machine. The observer's own backend is left out.
 */
import { readFileSync } from 'node:fs'
import type pg from 'pg'

const TICKS_PER_SECOND = 100 // USER_HZ on Linux

/** User + system CPU (µs) of each backend serving the observer's database, by pid. */
export async function postgresBackendCpu(observer: pg.Client): Promise<Map<number, number>> {
  const r = await observer.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  )
  const out = new Map<number, number>()
  for (const { pid } of r.rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      out.set(pid, ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6)
    } catch {
      // Gone meanwhile, or not on this machine.
    }
  }
  return out
}

/** CPU (µs) the backends used between two readings; a backend that appeared meanwhile counts whole. */
export function backendCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0
  for (const [pid, micros] of after) total += micros - (before.get(pid) ?? 0)
  return total
}
