import { encodeTime } from 'ulid';
import { ID_PREFIXES } from '@agentjobs/sdk/protocol';
import { countAgentQueues, countFinishedBetween } from '../store/repo/metrics-repo.js';
import type { JobsContext } from './context.js';

/** Queued and running jobs of one agent, for the operator's gauges. */
export interface AgentQueueCount {
  agentId: string;
  queued: number;
  running: number;
}

/** `/metrics`: queued and running jobs of every agent of every tenant, zero included. */
export function countAgentJobs(ctx: JobsContext): Promise<AgentQueueCount[]> {
  return ctx.store.read(countAgentQueues);
}

/** Counts jobs that finished since its previous call, by terminal status. */
export interface FinishedJobsCounter {
  /** The jobs that finished since the previous call (since the counter was made, at the first call). */
  next(): Promise<Array<{ status: string; count: number }>>;
}

/**
 * `/metrics`: counts finished jobs from the events committed between two calls, starting now.
 * Event ids are ULIDs, so a window of time is a range of ids.
 * On PostgreSQL several processes write events, and one whose id is a little older may commit a little later.
 * So there the window stops 10 s short of now, and such an event is not stepped over.
 * SQLite has a single writer whose ids follow commit order.
 */
export function createFinishedJobsCounter(ctx: JobsContext): FinishedJobsCounter {
  const { store } = ctx;
  const settleMs = store.dialect.engine === 'postgres' ? 10_000 : 0;
  // Database time at both ends of the window: process clocks may disagree with it.
  const since = store.now().then((ms) => eventIdAt(ms, 'first'), () => eventIdAt(Date.now(), 'first'));
  let cursor: string | null = null;
  return {
    async next() {
      cursor ??= await since;
      const upTo = eventIdAt((await store.now()) - settleMs, 'last');
      if (upTo <= cursor) return [];
      // Move the cursor before awaiting, so two calls at once never count the same window twice.
      const after = cursor;
      cursor = upTo;
      return store.read((tx) => countFinishedBetween(tx, after, upTo));
    },
  };
}

/** The smallest or largest event id that a ULID of this millisecond can make: bounds of an id range by time. */
function eventIdAt(ms: number, end: 'first' | 'last'): string {
  return `${ID_PREFIXES.event}_${encodeTime(Math.max(0, ms), 10).toLowerCase()}${(end === 'first' ? '0' : 'z').repeat(16)}`;
}
