/**
 * @module storage/ordered-id
 * Ids that sort by creation time: `<prefix><ms, base36, 9 chars><counter, 4 chars><80 random bits>`.
 * Used for outbox events and deliveries, which are inserted in bursts: a random primary key puts
 * every insert on a different B-tree page, so a commit rewrote most of the index (SQLite's WAL grew
 * ~40 % more per delivery, and its checkpoints stall the process). Still unguessable; the time
 * they reveal is in the payload anyway.
 */
import { randomFillSync } from 'node:crypto'

let lastMs = 0
let counter = 0
// Random bytes drawn 4 KiB at a time: one call per id cost ~3 % of a delivery burst's CPU.
const pool = Buffer.alloc(4000)
let used = pool.length

function random10(): string {
  if (used + 10 > pool.length) {
    randomFillSync(pool)
    used = 0
  }
  used += 10
  return pool.toString('base64url', used - 10, used)
}

export function orderedId(prefix: string, now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now
    counter = 0
  } else {
    counter++
  }
  // Base36 digits sort as ASCII ('0'–'9' before 'a'–'z'), so fixed widths sort by value.
  return `${prefix}${lastMs.toString(36).padStart(9, '0')}${(counter % 36 ** 4).toString(36).padStart(4, '0')}${random10()}`
}
