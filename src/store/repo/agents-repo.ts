import type { AgentRow, WorkerTokenRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, limitSql, updateRow } from './sql.js';

/** Stores a new agent. */
export function insertAgent(tx: Tx, row: AgentRow): Promise<number> {
  return insertRow(tx, 'agents', row);
}

/** A live (not deleted) agent of this tenant. */
export function getAgent(tx: Tx, tenantId: string, id: string, lock = false): Promise<AgentRow | undefined> {
  return tx.get<AgentRow>(
    `SELECT * FROM agents WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL${lock ? tx.dialect.forUpdate : ''}`,
    [id, tenantId],
  );
}

/**
 * Whether this tenant has a live (not deleted) agent with this id. The answer is kept for the rest of the
 * transaction (`tx.memo`), so that a group commit of many dispatches to one agent reads its row once;
 * {@link updateAgent} forgets it.
 */
export async function isLiveAgent(tx: Tx, tenantId: string, id: string): Promise<boolean> {
  const key = liveAgentKey(id);
  if (tx.memo.get(key) === tenantId) return true;
  const row = await tx.get('SELECT 1 AS live FROM agents WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL', [id, tenantId]);
  if (row) tx.memo.set(key, tenantId);
  return row !== undefined;
}

function liveAgentKey(id: string): string {
  return `live-agent:${id}`;
}

/**
 * The live agents of every tenant whose runtime has this `type` (`model`: the agents the server runs itself).
 * Across tenants on purpose: only the model runtime calls it, to know which agents to claim jobs for. The
 * runtime column is JSON text, so the type is read through the dialect's JSON accessor.
 */
export function listAgentsByRuntime(tx: Tx, type: string): Promise<AgentRow[]> {
  return tx.all<AgentRow>(
    `SELECT * FROM agents WHERE deleted_at IS NULL AND ${tx.dialect.jsonText('runtime')} = ? ORDER BY id`,
    ['type', type],
  );
}

/** A page of a tenant's live agents, newest first. */
export function listAgents(tx: Tx, tenantId: string, limit: number, beforeId: string | null): Promise<AgentRow[]> {
  return tx.all<AgentRow>(
    `SELECT * FROM agents WHERE tenant_id = ? AND deleted_at IS NULL${beforeId ? ' AND id < ?' : ''} ORDER BY id DESC ${limitSql(limit)}`,
    beforeId ? [tenantId, beforeId] : [tenantId],
  );
}

/** Changes the given columns of an agent. */
export function updateAgent(tx: Tx, id: string, patch: Partial<AgentRow>): Promise<number> {
  tx.memo.delete(liveAgentKey(id));
  return updateRow(tx, 'agents', id, { ...patch, updated_at: tx.now });
}

/** Records that a worker of this agent was seen now. */
export async function touchWorker(tx: Tx, agentId: string, workerId: string): Promise<void> {
  await tx.run(
    `INSERT INTO workers (agent_id, worker_id, last_seen_at) VALUES (?, ?, ?)
     ON CONFLICT (agent_id, worker_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
    [agentId, workerId, tx.now],
  );
  await tx.run('UPDATE agents SET last_seen_at = ? WHERE id = ?', [tx.now, agentId]);
}

/** Workers of an agent seen since `since`. */
export async function countWorkersSince(tx: Tx, agentId: string, since: number): Promise<number> {
  const row = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM workers WHERE agent_id = ? AND last_seen_at >= ?', [
    agentId,
    since,
  ]);
  return Number(row?.n ?? 0);
}

/** Stores a new worker token (its hash). */
export function insertWorkerToken(tx: Tx, row: WorkerTokenRow): Promise<number> {
  return insertRow(tx, 'worker_tokens', row);
}

/** The worker tokens of an agent, newest first. */
export function listWorkerTokens(tx: Tx, agentId: string): Promise<WorkerTokenRow[]> {
  return tx.all<WorkerTokenRow>('SELECT * FROM worker_tokens WHERE agent_id = ? ORDER BY id DESC', [agentId]);
}

/** Revokes one worker token of an agent; resolves to the token row, or undefined when there is none. */
export async function revokeWorkerToken(tx: Tx, agentId: string, id: string): Promise<WorkerTokenRow | undefined> {
  await tx.run('UPDATE worker_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND agent_id = ?', [tx.now, id, agentId]);
  return tx.get<WorkerTokenRow>('SELECT * FROM worker_tokens WHERE id = ? AND agent_id = ?', [id, agentId]);
}
