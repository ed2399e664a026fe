import type { EventRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, insertRows, limitSql, placeholders } from './sql.js';

/** Appends an event. */
export function insertEvent(tx: Tx, row: EventRow): Promise<number> {
  return insertRow(tx, 'events', row);
}

/** Appends many events at once (the first events of a batch's jobs). */
export function insertEvents(tx: Tx, rows: readonly EventRow[]): Promise<number> {
  return insertRows(tx, 'events', rows);
}

/** An event by id, within a tenant. */
export function getEvent(tx: Tx, tenantId: string, id: string): Promise<EventRow | undefined> {
  return tx.get<EventRow>('SELECT * FROM events WHERE id = ? AND tenant_id = ?', [id, tenantId]);
}

/** Events of one job after a sequence number, in order (read from its tree's range, which is ordered). */
export function listJobEvents(tx: Tx, rootId: string, jobId: string, afterSequence: number, limit: number): Promise<EventRow[]> {
  return tx.all<EventRow>(`SELECT * FROM events WHERE root_job_id = ? AND sequence > ? AND job_id = ? ORDER BY sequence ${limitSql(limit)}`, [
    rootId,
    afterSequence,
    jobId,
  ]);
}

/** Events of a job tree after a sequence number, in order, optionally only of some of its jobs. */
export function listTreeEvents(
  tx: Tx,
  rootId: string,
  afterSequence: number,
  limit: number,
  jobIds: string[] | null,
): Promise<EventRow[]> {
  const only = jobIds ? ` AND job_id IN (${placeholders(jobIds.length)})` : '';
  return tx.all<EventRow>(
    `SELECT * FROM events WHERE root_job_id = ? AND sequence > ?${only} ORDER BY sequence ${limitSql(limit)}`,
    [rootId, afterSequence, ...(jobIds ?? [])],
  );
}

/** Events of one type of one job after a sequence number, in order (output deltas, read to assemble the text). */
export function listJobEventsOfType(tx: Tx, rootId: string, jobId: string, type: string, afterSequence: number, limit: number): Promise<EventRow[]> {
  return tx.all<EventRow>(
    `SELECT * FROM events WHERE root_job_id = ? AND sequence > ? AND job_id = ? AND type = ? ORDER BY sequence ${limitSql(limit)}`,
    [rootId, afterSequence, jobId, type],
  );
}
