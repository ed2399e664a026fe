import type { Millis } from '../../domain/time.js';
import type { ScheduleFireRow, ScheduleRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, limitSql, updateRow } from './sql.js';

/** Stores a new schedule. */
export function insertSchedule(tx: Tx, row: ScheduleRow): Promise<number> {
  return insertRow(tx, 'schedules', row);
}

/** A schedule of this tenant, locked for the rest of the transaction when `lock` (PostgreSQL). */
export function getSchedule(tx: Tx, tenantId: string, id: string, lock = false): Promise<ScheduleRow | undefined> {
  return tx.get<ScheduleRow>(`SELECT * FROM schedules WHERE id = ? AND tenant_id = ?${lock ? tx.dialect.forUpdate : ''}`, [id, tenantId]);
}

/** A page of a tenant's schedules, newest first, below `beforeId`. */
export function listSchedules(tx: Tx, tenantId: string, agentId: string | undefined, limit: number, beforeId: string | null): Promise<ScheduleRow[]> {
  const where = ['tenant_id = ?'];
  const params: unknown[] = [tenantId];
  if (agentId) (where.push('agent_id = ?'), params.push(agentId));
  if (beforeId) (where.push('id < ?'), params.push(beforeId));
  return tx.all<ScheduleRow>(`SELECT * FROM schedules WHERE ${where.join(' AND ')} ORDER BY id DESC ${limitSql(limit)}`, params);
}

/** Changes the given columns of a schedule. */
export function updateSchedule(tx: Tx, id: string, patch: Partial<ScheduleRow>): Promise<number> {
  return updateRow(tx, 'schedules', id, { ...patch, updated_at: tx.now });
}

/** Deletes a schedule and the record of its fires (the jobs it dispatched stay). */
export async function deleteSchedule(tx: Tx, id: string): Promise<number> {
  await tx.run('DELETE FROM schedule_fires WHERE schedule_id = ?', [id]);
  return tx.run('DELETE FROM schedules WHERE id = ?', [id]);
}

/**
 * Schedules whose next fire is due, earliest first, locked and skipping those another process is firing: each
 * due fire is taken by exactly one transaction, which advances `next_run_at` before it commits.
 */
export function selectDueSchedules(tx: Tx, limit: number): Promise<ScheduleRow[]> {
  return tx.all<ScheduleRow>(
    `SELECT * FROM schedules WHERE next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at ${limitSql(limit)}${tx.dialect.forUpdateSkipLocked}`,
    [tx.now],
  );
}

/** The earliest next fire of any schedule, or null. */
export async function nextScheduleRunAt(tx: Tx): Promise<Millis | null> {
  const row = await tx.get<{ t: Millis | null }>('SELECT MIN(next_run_at) AS t FROM schedules WHERE next_run_at IS NOT NULL');
  return row?.t == null ? null : Number(row.t);
}

/** Records a fire; false when this fire of this schedule was recorded already (it must not run twice). */
export async function recordFire(tx: Tx, row: ScheduleFireRow): Promise<boolean> {
  const inserted = await tx.run(
    `INSERT INTO schedule_fires (schedule_id, fire_at, job_id, outcome, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (schedule_id, fire_at) DO NOTHING`,
    [row.schedule_id, row.fire_at, row.job_id, row.outcome, row.created_at],
  );
  return inserted === 1;
}

/** Fills in what a recorded fire did. */
export function settleFire(tx: Tx, scheduleId: string, fireAt: Millis, jobId: string | null, outcome: ScheduleFireRow['outcome']): Promise<number> {
  return tx.run('UPDATE schedule_fires SET job_id = ?, outcome = ? WHERE schedule_id = ? AND fire_at = ?', [jobId, outcome, scheduleId, fireAt]);
}
