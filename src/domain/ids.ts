import { monotonicFactory } from 'ulid';
import { ID_PREFIXES, type IdKind } from '@agentjobs/sdk/protocol';
import { randomFraction } from './random.js';

// Monotonic within this process: ids made in the same millisecond still sort in creation order, which
// keeps "oldest first" claims and cursor pages exact for jobs dispatched through one server.
const nextUlid = monotonicFactory(randomFraction);

/** A new id of the given kind: prefix, `_`, lowercase ULID. */
export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${nextUlid(now).toLowerCase()}`;
}
