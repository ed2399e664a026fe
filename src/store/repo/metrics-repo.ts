import type { Tx } from '../store.js';

/**
 * Aggregates read at each `/metrics` scrape, across every tenant (they are the operator's view of the server).
 * Each is one statement over an index: queued jobs sit in the partial index `jobs_queued`, and running counts
 * are kept on the agent rows by every transition, so neither grows with the job history.
 */

/** Jobs per status. Scans the `(tenant_id, status, id)` index once: linear in the number of jobs kept. */
export async function countJobsByStatus(tx: Tx): Promise<Array<{ status: string; count: number }>> {
  const rows = await tx.all<{ status: string; n: number | string }>('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status');
  // PostgreSQL answers COUNT(*) as a bigint, which the driver hands over as text.
  return rows.map((row) => ({ status: row.status, count: Number(row.n) }));
}

/**
 * Queued and running jobs of every agent, zero included (a series that vanishes when a queue empties would
 * break rate() and alerts); agents deleted with jobs still queued keep their line until those are gone.
 */
export async function countAgentQueues(tx: Tx): Promise<Array<{ agentId: string; queued: number; running: number }>> {
  const queued = await tx.all<{ agent_id: string; n: number | string }>(
    "SELECT agent_id, COUNT(*) AS n FROM jobs WHERE status = 'queued' GROUP BY agent_id",
  );
  const running = await tx.all<{ id: string; running_count: number | string }>(
    'SELECT id, running_count FROM agents WHERE deleted_at IS NULL OR running_count > 0',
  );
  const byAgent = new Map<string, { agentId: string; queued: number; running: number }>();
  for (const row of running) byAgent.set(row.id, { agentId: row.id, queued: 0, running: Number(row.running_count) });
  for (const row of queued) {
    const entry = byAgent.get(row.agent_id) ?? { agentId: row.agent_id, queued: 0, running: 0 };
    entry.queued = Number(row.n);
    byAgent.set(row.agent_id, entry);
  }
  return [...byAgent.values()];
}
