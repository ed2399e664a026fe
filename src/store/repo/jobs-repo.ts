import type { JobStatus } from '@agentjobs/sdk/protocol';
import type { Millis } from '../../domain/time.js';
import type { JobNodeRow, JobRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, insertRows, limitSql, placeholders, updateRow, updateRowReturning } from './sql.js';

/** Stores a new job. */
export function insertJob(tx: Tx, row: JobRow): Promise<number> {
  return insertRow(tx, 'jobs', row);
}

/** Stores many new jobs at once (a batch), with multi-row statements. */
export function insertJobs(tx: Tx, rows: readonly JobRow[]): Promise<number> {
  return insertRows(tx, 'jobs', rows);
}

/** A job of this tenant, locked for the rest of the transaction when `lock` (PostgreSQL). */
export function getJob(tx: Tx, tenantId: string, id: string, lock = false): Promise<JobRow | undefined> {
  return tx.get<JobRow>(`SELECT * FROM jobs WHERE id = ? AND tenant_id = ?${lock ? tx.dialect.forUpdate : ''}`, [id, tenantId]);
}

/** A job by id alone, for callers that check the owner themselves (worker routes, timers). */
export function getJobById(tx: Tx, id: string, lock = false): Promise<JobRow | undefined> {
  return tx.get<JobRow>(`SELECT * FROM jobs WHERE id = ?${lock ? tx.dialect.forUpdate : ''}`, [id]);
}

/** Changes the given columns of a job. */
export function updateJob(tx: Tx, id: string, patch: Partial<JobRow>): Promise<number> {
  return updateRow(tx, 'jobs', id, { ...patch, updated_at: tx.now });
}

/**
 * Changes the given columns of a job that is the root of its tree and takes the tree's next event sequence in
 * the same statement (see {@link nextTreeSequence}).
 */
export async function updateRootJobTakingSequence(tx: Tx, id: string, patch: Partial<JobRow>): Promise<number> {
  const row = await updateRowReturning<{ event_seq: number }>(tx, 'jobs', id, { ...patch, updated_at: tx.now }, 'event_seq = event_seq + 1', 'event_seq');
  return row!.event_seq;
}

/** Filters of `GET /v1/jobs`. */
export interface JobFilters {
  status?: JobStatus;
  agentId?: string;
  parentJobId?: string;
  rootJobId?: string;
  createdAfter?: Millis;
  createdBefore?: Millis;
  metadata?: Array<[string, string]>;
  /** true: only jobs waiting for a person (read from the partial index `jobs_waiting`); false: only the others. */
  waiting?: boolean;
  batchId?: string;
  scheduleId?: string;
}

/** A page of a tenant's jobs, newest first, starting below `beforeId`. */
export function listJobs(tx: Tx, tenantId: string, filters: JobFilters, limit: number, beforeId: string | null): Promise<JobRow[]> {
  const { where, params } = jobsWhere(tx, tenantId, filters);
  if (beforeId) (where.push('id < ?'), params.push(beforeId));
  return tx.all<JobRow>(`SELECT * FROM jobs WHERE ${where.join(' AND ')} ORDER BY id DESC ${limitSql(limit)}`, params);
}

/**
 * The ids of a tenant's jobs that match the filters, oldest first, after `afterId` (a bulk action reads them page
 * by page). `activeOnly` keeps the queued and running ones.
 */
export async function listMatchingJobIds(
  tx: Tx,
  tenantId: string,
  filters: JobFilters,
  activeOnly: boolean,
  afterId: string | null,
  limit: number,
): Promise<string[]> {
  const { where, params } = jobsWhere(tx, tenantId, filters);
  if (activeOnly) where.push("status IN ('queued', 'running')");
  if (afterId) (where.push('id > ?'), params.push(afterId));
  const rows = await tx.all<{ id: string }>(`SELECT id FROM jobs WHERE ${where.join(' AND ')} ORDER BY id ${limitSql(limit)}`, params);
  return rows.map((r) => r.id);
}

function jobsWhere(tx: Tx, tenantId: string, filters: JobFilters): { where: string[]; params: unknown[] } {
  const where = ['tenant_id = ?'];
  const params: unknown[] = [tenantId];
  if (filters.status) (where.push('status = ?'), params.push(filters.status));
  if (filters.agentId) (where.push('agent_id = ?'), params.push(filters.agentId));
  if (filters.parentJobId) (where.push('parent_job_id = ?'), params.push(filters.parentJobId));
  if (filters.rootJobId) (where.push('root_job_id = ?'), params.push(filters.rootJobId));
  if (filters.waiting != null) where.push(filters.waiting ? 'waiting_for IS NOT NULL' : 'waiting_for IS NULL');
  if (filters.batchId) (where.push('batch_id = ?'), params.push(filters.batchId));
  if (filters.scheduleId) (where.push('schedule_id = ?'), params.push(filters.scheduleId));
  if (filters.createdAfter != null) (where.push('created_at > ?'), params.push(filters.createdAfter));
  if (filters.createdBefore != null) (where.push('created_at < ?'), params.push(filters.createdBefore));
  for (const [key, value] of filters.metadata ?? []) {
    where.push(`${tx.dialect.jsonText('metadata')} = ?`);
    params.push(key, value);
  }
  return { where, params };
}

/** Jobs of these ids within a tenant, locked (PostgreSQL), oldest first. */
export function getJobsByIds(tx: Tx, tenantId: string, ids: readonly string[]): Promise<JobRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx.all<JobRow>(
    `SELECT * FROM jobs WHERE id IN (${placeholders(ids.length)}) AND tenant_id = ? ORDER BY id${tx.dialect.forUpdate}`,
    [...ids, tenantId],
  );
}

/** The unfinished jobs of a batch, locked (PostgreSQL), oldest first. */
export function listActiveInBatch(tx: Tx, batchId: string): Promise<JobRow[]> {
  return tx.all<JobRow>(`SELECT * FROM jobs WHERE batch_id = ? AND status IN ('queued', 'running') ORDER BY id${tx.dialect.forUpdate}`, [batchId]);
}

/** The unfinished jobs a schedule dispatched, locked (PostgreSQL), oldest first. */
export function listActiveOfSchedule(tx: Tx, scheduleId: string): Promise<JobRow[]> {
  return tx.all<JobRow>(`SELECT * FROM jobs WHERE schedule_id = ? AND status IN ('queued', 'running') ORDER BY id${tx.dialect.forUpdate}`, [
    scheduleId,
  ]);
}

/** How many jobs of a batch are in each status. */
export function countBatchJobs(tx: Tx, batchId: string): Promise<Array<{ status: JobStatus; n: number }>> {
  return tx.all('SELECT status, COUNT(*) AS n FROM jobs WHERE batch_id = ? GROUP BY status', [batchId]);
}

/** Every descendant of a root, as tree nodes (oldest first). */
export function listTreeNodes(tx: Tx, rootId: string): Promise<JobNodeRow[]> {
  return tx.all<JobNodeRow>(
    `SELECT id, agent_id, status, parent_job_id, created_at, completed_at, tokens_total
       FROM jobs WHERE root_job_id = ? AND parent_job_id IS NOT NULL ORDER BY id`,
    [rootId],
  );
}

/** The unfinished descendants of a root, locked (PostgreSQL) for a cascade. */
export function listActiveInTree(tx: Tx, rootId: string): Promise<JobRow[]> {
  return tx.all<JobRow>(
    `SELECT * FROM jobs WHERE root_job_id = ? AND parent_job_id IS NOT NULL AND status IN ('queued', 'running')
      ORDER BY id${tx.dialect.forUpdate}`,
    [rootId],
  );
}

/** True when the agent has a job ready to claim (a look without locks, before a claim takes any). */
export async function hasReadyJob(tx: Tx, agentId: string): Promise<boolean> {
  return (await tx.get('SELECT 1 AS x FROM jobs WHERE agent_id = ? AND ready_at <= ? LIMIT 1', [agentId, tx.now])) !== undefined;
}

/** The jobs of an agent ready longest, locked and skipping those another claim holds. */
export function selectClaimable(tx: Tx, agentId: string, limit: number): Promise<JobRow[]> {
  return tx.all<JobRow>(
    `SELECT * FROM jobs WHERE agent_id = ? AND ready_at <= ? ORDER BY ready_at, id ${limitSql(limit)}${tx.dialect.forUpdateSkipLocked}`,
    [agentId, tx.now],
  );
}

/**
 * Jobs whose timer has fired, earliest first and ancestors before descendants (a parent that times out cancels
 * its children, rather than each child timing out on the deadline it inherited), locked and skipping those
 * another process is handling.
 */
export function selectDue(tx: Tx, limit: number): Promise<JobRow[]> {
  return tx.all<JobRow>(
    `SELECT * FROM jobs WHERE timer_at IS NOT NULL AND timer_at <= ? ORDER BY timer_at, depth ${limitSql(limit)}${tx.dialect.forUpdateSkipLocked}`,
    [tx.now],
  );
}

/** The earliest pending timer of any job, or null. */
export async function nextTimerAt(tx: Tx): Promise<Millis | null> {
  const row = await tx.get<{ t: Millis | null }>('SELECT MIN(timer_at) AS t FROM jobs WHERE timer_at IS NOT NULL');
  return row?.t ?? null;
}

/** Ancestors of a job (ids from its path), with what budget checks need. */
export function getAncestors(
  tx: Tx,
  ids: string[],
): Promise<Array<Pick<JobRow, 'id' | 'status' | 'token_budget' | 'tokens_total'>>> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx.all(`SELECT id, status, token_budget, tokens_total FROM jobs WHERE id IN (${placeholders(ids.length)})${tx.dialect.forUpdate}`, ids);
}

/** Adds `delta` tokens to the subtree totals of these jobs (a job and its ancestors). */
export function addTokens(tx: Tx, ids: string[], delta: number): Promise<number> {
  return tx.run(`UPDATE jobs SET tokens_total = tokens_total + ? WHERE id IN (${placeholders(ids.length)})`, [delta, ...ids]);
}

/** Takes the next event sequence number of a job tree (the counter lives on the root row, whose lock orders them). */
export async function nextTreeSequence(tx: Tx, rootId: string, count = 1): Promise<number> {
  const row = await tx.get<{ event_seq: number }>(
    'UPDATE jobs SET event_seq = event_seq + ? WHERE id = ? RETURNING event_seq',
    [count, rootId],
  );
  return row!.event_seq - count + 1;
}

/**
 * The predicate of the partial index `jobs_leased`: a running job that a worker holds — neither waiting for a
 * person nor back in the queue after an answer. Written exactly as the index's WHERE, so both engines use it.
 */
const LEASED = "status = 'running' AND ready_at IS NULL AND waiting_for IS NULL";

/**
 * Counts of an agent's jobs: queued, running (held by a worker), and waiting for a person (running, but held by
 * none). The waiting ones are counted on the tenant's index of waiting jobs, which holds only those.
 */
export async function countAgentJobs(tx: Tx, tenantId: string, agentId: string): Promise<{ queued: number; running: number; waiting: number }> {
  const row = await tx.get<{ queued: number; running: number; waiting: number }>(
    `SELECT (SELECT COUNT(*) FROM jobs WHERE agent_id = ? AND ready_at IS NOT NULL AND status = 'queued') AS queued,
            (SELECT COUNT(*) FROM jobs WHERE agent_id = ? AND ${LEASED}) AS running,
            (SELECT COUNT(*) FROM jobs WHERE tenant_id = ? AND waiting_for IS NOT NULL AND agent_id = ?) AS waiting`,
    [agentId, agentId, tenantId, agentId],
  );
  return { queued: Number(row?.queued ?? 0), running: Number(row?.running ?? 0), waiting: Number(row?.waiting ?? 0) };
}

/**
 * How many jobs of an agent a worker holds, counted on the partial index `jobs_leased`: `max_concurrency` counts
 * these. A job waiting for a person holds no slot, however long it waits. Counted rather than kept in a counter
 * on the agent's row: a counter would be written by every start and end of every job of the agent, and on
 * PostgreSQL each of those writes would hold the agent's row until its batch commits — one row that every server
 * process queues for.
 */
export async function countLeasedJobs(tx: Tx, agentId: string): Promise<number> {
  const row = await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM jobs WHERE agent_id = ? AND ${LEASED}`, [agentId]);
  return Number(row?.n ?? 0);
}

/** How many jobs of an agent wait for a person (on the tenant's partial index of waiting jobs). */
export async function countWaitingJobs(tx: Tx, tenantId: string, agentId: string): Promise<number> {
  const row = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = ? AND waiting_for IS NOT NULL AND agent_id = ?', [
    tenantId,
    agentId,
  ]);
  return Number(row?.n ?? 0);
}

/** Increments a job's child count; resolves to the new count. */
export async function incrementChildCount(tx: Tx, id: string): Promise<number> {
  const row = await tx.get<{ child_count: number }>(
    'UPDATE jobs SET child_count = child_count + 1 WHERE id = ? RETURNING child_count',
    [id],
  );
  return row!.child_count;
}
