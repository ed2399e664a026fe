import type { Brief } from '@agentjobs/sdk/protocol';
import { nextFireAfter } from '../domain/cron.js';
import type { Millis } from '../domain/time.js';
import type { ScheduleFireRow, ScheduleRow } from '../store/rows.js';
import { isLiveAgent } from '../store/repo/agents-repo.js';
import { listActiveOfSchedule } from '../store/repo/jobs-repo.js';
import { nextScheduleRunAt, recordFire, selectDueSchedules, settleFire, updateSchedule } from '../store/repo/schedules-repo.js';
import type { Tx } from '../store/store.js';
import { requestCancel } from './cancel-job.js';
import type { JobsContext, Principal } from './context.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { dispatchBody, insertNewJob, type PreparedJob } from './new-job.js';
import { scheduleOf } from './schedules.js';

/** Most schedules fired in one transaction. */
const BATCH = 50;

/**
 * Fires every schedule whose next fire is due, in database time. Each due schedule row is locked by exactly one
 * transaction (any process may sweep), which dispatches the fire's job and advances `next_run_at` before it
 * commits: one job per fire, however many processes run. Fires missed while no server ran give one catch-up
 * run: the next fire is the first one after now. Resolves to the number of fires handled.
 */
export async function fireDueSchedules(ctx: JobsContext): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await ctx.store.write(async (tx) => {
      const due = await selectDueSchedules(tx, BATCH);
      for (const schedule of due) await fireOne(ctx, tx, schedule);
      return due.length;
    });
    total += n;
    if (n < BATCH) return total;
  }
}

/** The earliest next fire of any schedule, for the sweep that sleeps until then. */
export function nextScheduleDueAt(ctx: JobsContext): Promise<Millis | null> {
  return ctx.store.read(nextScheduleRunAt);
}

/**
 * `POST /v1/schedules/{id}/trigger`: one run now, whatever the cron, the overlap policy or a pause say.
 * 202 with the job, as a dispatch answers.
 */
export function triggerSchedule(ctx: JobsContext, principal: Principal, id: string, idempotencyKey: string | null): Promise<StoredResponse> {
  const idem = idempotencyKey ? { key: idempotencyKey, scope: `trigger:${id}`, body: {} } : null;
  return ctx.store.write(async (tx) => {
    const schedule = await scheduleOf(tx, principal, id, true);
    return idempotent(tx, principal.tenantId, idem, async () => {
      const job = await insertNewJob(tx, ctx.limits, schedule.tenant_id, preparedOf(schedule), null, 'cancel', { scheduleId: schedule.id });
      await updateSchedule(tx, schedule.id, { last_job_id: job.id });
      return { status: 202, body: dispatchBody(job), createdId: job.id };
    });
  });
}

/** One fire of a due schedule, under its row lock: dispatch (or skip) and advance to the next fire. */
async function fireOne(ctx: JobsContext, tx: Tx, schedule: ScheduleRow): Promise<void> {
  const fireAt = Number(schedule.next_run_at);
  const next = nextFireAfter(schedule.cron, schedule.timezone, Math.max(tx.now, fireAt));
  const patch: Partial<ScheduleRow> = { next_run_at: next, last_run_at: fireAt };
  const fire: ScheduleFireRow = { schedule_id: schedule.id, fire_at: fireAt, job_id: null, outcome: 'dispatched', created_at: tx.now };
  if (await recordFire(tx, fire)) {
    const outcome = await dispatchFire(ctx, tx, schedule, fireAt);
    if (outcome.jobId) patch.last_job_id = outcome.jobId;
    await settleFire(tx, schedule.id, fireAt, outcome.jobId, outcome.outcome);
  }
  await updateSchedule(tx, schedule.id, patch);
}

/** What the overlap policy makes of a fire while earlier jobs of the schedule have not ended. */
async function dispatchFire(
  ctx: JobsContext,
  tx: Tx,
  schedule: ScheduleRow,
  fireAt: Millis,
): Promise<{ jobId: string | null; outcome: ScheduleFireRow['outcome'] }> {
  if (!(await isLiveAgent(tx, schedule.tenant_id, schedule.agent_id))) return { jobId: null, outcome: 'skipped_agent_gone' };
  if (schedule.overlap !== 'allow') {
    const active = await listActiveOfSchedule(tx, schedule.id);
    if (active.length > 0 && schedule.overlap === 'skip') return { jobId: null, outcome: 'skipped_overlap' };
    for (const job of active) await requestCancel(tx, job, 'cancelled');
  }
  const job = await insertNewJob(tx, ctx.limits, schedule.tenant_id, preparedOf(schedule), null, 'cancel', {
    scheduleId: schedule.id,
    scheduledFor: fireAt,
  });
  return { jobId: job.id, outcome: 'dispatched' };
}

/** The job a schedule dispatches, from what it stored (checked when the schedule was created or changed). */
function preparedOf(schedule: ScheduleRow): PreparedJob {
  const brief = JSON.parse(schedule.brief) as Brief;
  return {
    agentId: schedule.agent_id,
    brief,
    metadata: schedule.metadata,
    observers: JSON.parse(schedule.observers),
    outputSchema: brief.output_schema !== undefined ? JSON.stringify(brief.output_schema) : null,
    start: {},
    field: '',
  };
}
