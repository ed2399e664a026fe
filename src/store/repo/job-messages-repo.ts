import type { JobMessageRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, limitSql } from './sql.js';

/** Stores a message sent to a job. */
export function insertJobMessage(tx: Tx, row: JobMessageRow): Promise<number> {
  return insertRow(tx, 'job_messages', row);
}

/** The messages of a job numbered after `afterSeq`, oldest first. */
export function listJobMessages(tx: Tx, jobId: string, afterSeq: number, limit: number): Promise<JobMessageRow[]> {
  return tx.all<JobMessageRow>(`SELECT * FROM job_messages WHERE job_id = ? AND seq > ? ORDER BY seq ${limitSql(limit)}`, [jobId, afterSeq]);
}

/** A message by id, within a job. */
export function getJobMessage(tx: Tx, jobId: string, id: string): Promise<JobMessageRow | undefined> {
  return tx.get<JobMessageRow>('SELECT * FROM job_messages WHERE id = ? AND job_id = ?', [id, jobId]);
}
