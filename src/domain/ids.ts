import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { ID_PREFIXES, type IdKind } from '../protocol/ids.js';

// ulid asks its random source for one value per character, and its default source calls the kernel each time:
// about 100 µs for an id in a new millisecond. Drawing from a pool refilled 4 KiB at a time makes it 1 µs.
const pool = new Uint8Array(4096);
let position = pool.length;
function pooledRandom(): number {
  if (position >= pool.length) {
    randomFillSync(pool);
    position = 0;
  }
  return pool[position++] / 256;
}

// Monotonic within this process: ids made in the same millisecond still sort in creation order, which
// keeps "oldest first" claims and cursor pages exact for jobs dispatched through one server.
const nextUlid = monotonicFactory(pooledRandom);

/** A new id of the given kind: prefix, `_`, lowercase ULID. */
export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${nextUlid(now).toLowerCase()}`;
}
