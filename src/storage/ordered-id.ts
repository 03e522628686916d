/**
 * @module storage/ordered-id
 * Ids that sort by creation time: `<prefix><ms, base36, 9 chars><counter, 4 chars><80 random bits>`.
 * Used for outbox events and deliveries, which are inserted in bursts: a random primary key puts
 * every insert on a different B-tree page, so a commit rewrote most of the index (SQLite's WAL grew
 * ~40 % more per delivery, and its checkpoints stall the process). Still unguessable; the time
 * they reveal is in the payload anyway.
 */
import { randomBytes } from 'node:crypto'

let lastMs = 0
let counter = 0

export function orderedId(prefix: string, now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now
    counter = 0
  } else {
    counter++
  }
  // Base36 digits sort as ASCII ('0'–'9' before 'a'–'z'), so fixed widths sort by value.
  return `${prefix}${lastMs.toString(36).padStart(9, '0')}${(counter % 36 ** 4).toString(36).padStart(4, '0')}${randomBytes(10).toString('base64url')}`
}
