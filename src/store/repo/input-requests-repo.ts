import type { InputRequestRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, limitSql, placeholders, updateRow } from './sql.js';

/** Stores a new input request. */
export function insertInputRequest(tx: Tx, row: InputRequestRow): Promise<number> {
  return insertRow(tx, 'input_requests', row);
}

/** An input request of one job. */
export function getInputRequest(tx: Tx, jobId: string, id: string): Promise<InputRequestRow | undefined> {
  return tx.get<InputRequestRow>('SELECT * FROM input_requests WHERE id = ? AND job_id = ?', [id, jobId]);
}

/** Changes the given columns of an input request. */
export function updateInputRequest(tx: Tx, id: string, patch: Partial<InputRequestRow>): Promise<number> {
  return updateRow(tx, 'input_requests', id, patch);
}

/** Every input request of a job, oldest first (a claim hands them all to the worker). */
export function listJobInputRequests(tx: Tx, jobId: string): Promise<InputRequestRow[]> {
  return tx.all<InputRequestRow>('SELECT * FROM input_requests WHERE job_id = ? ORDER BY id', [jobId]);
}

/** The pending requests of a job, which end with it (normally one at most). */
export function listPendingInputRequests(tx: Tx, jobId: string): Promise<InputRequestRow[]> {
  return tx.all<InputRequestRow>("SELECT * FROM input_requests WHERE job_id = ? AND status = 'pending'", [jobId]);
}

/** Filters of an inbox: which jobs (null: every job of the tree) and which status. */
export interface InboxFilters {
  rootJobId: string;
  jobIds: string[] | null;
  status?: InputRequestRow['status'];
}

/** A page of the input requests of a job tree (or some of its jobs), oldest first, after `afterId`. */
export function listTreeInputRequests(tx: Tx, filters: InboxFilters, limit: number, afterId: string | null): Promise<InputRequestRow[]> {
  const where = ['root_job_id = ?'];
  const params: unknown[] = [filters.rootJobId];
  if (filters.jobIds) (where.push(`job_id IN (${placeholders(filters.jobIds.length)})`), params.push(...filters.jobIds));
  if (filters.status) (where.push('status = ?'), params.push(filters.status));
  if (afterId) (where.push('id > ?'), params.push(afterId));
  return tx.all<InputRequestRow>(`SELECT * FROM input_requests WHERE ${where.join(' AND ')} ORDER BY id ${limitSql(limit)}`, params);
}
