import type { Tx } from '../store.js';

/**
 * Aggregates read at each `/metrics` scrape, across every tenant (they are the operator's view of the server).
 * Each reads an index whose size follows the work in flight, never the job history: queued jobs sit in the
 * partial index `jobs_ready`, running ones in `jobs_running`, and finished
 * jobs are counted from the events written since the previous scrape. (A `GROUP BY status` over all jobs
 * would scan every job ever kept: about 0.3 s per million on SQLite, blocking the event loop.)
 */

/**
 * Queued and running jobs of every agent, zero included (a series that vanishes when a queue empties would
 * break rate() and alerts); agents deleted with jobs still running keep their line until those are gone.
 */
export async function countAgentQueues(tx: Tx): Promise<Array<{ agentId: string; queued: number; running: number }>> {
  const queued = await tx.all<{ agent_id: string; n: number | string }>(
    "SELECT agent_id, COUNT(*) AS n FROM jobs WHERE ready_at IS NOT NULL AND status = 'queued' GROUP BY agent_id",
  );
  const running = await tx.all<{ agent_id: string; n: number | string }>(
    "SELECT agent_id, COUNT(*) AS n FROM jobs WHERE status = 'running' GROUP BY agent_id",
  );
  const live = await tx.all<{ id: string }>('SELECT id FROM agents WHERE deleted_at IS NULL');
  const byAgent = new Map<string, { agentId: string; queued: number; running: number }>();
  const entry = (agentId: string) => {
    let found = byAgent.get(agentId);
    if (!found) byAgent.set(agentId, (found = { agentId, queued: 0, running: 0 }));
    return found;
  };
  for (const row of live) entry(row.id);
  // Number(): COUNT(*) is a bigint on PostgreSQL, which some drivers hand over as text.
  for (const row of running) entry(row.agent_id).running = Number(row.n);
  for (const row of queued) entry(row.agent_id).queued = Number(row.n);
  return [...byAgent.values()];
}

/**
 * Jobs that reached a terminal status, by status, among the events with ids in `(afterId, upToId]`. Event ids
 * are ULIDs, so an id range is a time range read from the primary key.
 */
export async function countFinishedBetween(tx: Tx, afterId: string, upToId: string): Promise<Array<{ status: string; count: number }>> {
  const rows = await tx.all<{ type: string; n: number | string }>(
    `SELECT type, COUNT(*) AS n FROM events
      WHERE id > ? AND id <= ? AND type IN ('job.completed', 'job.failed', 'job.cancelled')
      GROUP BY type`,
    [afterId, upToId],
  );
  return rows.map((row) => ({ status: row.type.slice('job.'.length), count: Number(row.n) }));
}
