import { JOB_ERROR_CODES } from '@agentjobs/sdk/protocol';
import { cancellationError, dueAction, timerAt, type CancelCode } from '../domain/job-rules.js';
import { iso } from '../domain/time.js';
import type { JobRow } from '../store/rows.js';
import { getJobById, nextTimerAt, selectDue, updateJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import type { JobsContext } from './context.js';
import { requeueJob } from './requeue-job.js';
import { transition } from './transition.js';

/** Most timers handled in one transaction. */
const BATCH = 200;

/**
 * Acts on every job whose timer has fired, in database time: a passed deadline fails the job with `timeout`
 * (its lease is revoked and its descendants cancelled), a passed queue deadline with `queue_timeout`, and an
 * expired lease re-queues the job with `attempt` + 1 — or, when attempts are spent, fails it with
 * `lease_expired`; a job whose cancel was requested becomes `cancelled`; an input request nobody answered in
 * time fails its job with `input_timeout`; a delayed job that became ready wakes the workers waiting for its
 * agent. On PostgreSQL several processes may
 * sweep at once: each due row is locked by exactly one of them. Resolves to the number of jobs acted on.
 */
export async function expireDueJobs(ctx: JobsContext): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await ctx.store.write(async (tx) => {
      const rows = await selectDue(tx, BATCH);
      for (const selected of rows) {
        // An earlier job of this batch may have changed this one (a parent's timeout cancels its children).
        const row = await getJobById(tx, selected.id, true);
        if (row) await expireOne(tx, row);
      }
      return rows.length;
    });
    total += n;
    if (n < BATCH) return total;
  }
}

/** The earliest pending timer, for the loop that sleeps until then. */
export function nextDueAt(ctx: JobsContext): Promise<number | null> {
  return ctx.store.read(nextTimerAt);
}

async function expireOne(tx: Tx, job: JobRow): Promise<void> {
  const action = dueAction(job, tx.now);
  if (action === 'timeout') {
    const limit = job.max_duration_ms != null ? `max_duration_seconds ${job.max_duration_ms / 1000}` : 'the deadline it inherited';
    await fail(tx, job, JOB_ERROR_CODES.timeout, `The job ran past its deadline ${iso(job.deadline_at)} (${limit}).`);
  } else if (action === 'queue_timeout') {
    await fail(tx, job, JOB_ERROR_CODES.queueTimeout, `No worker claimed the job before ${iso(job.queue_deadline_at)} (max_queue_seconds).`);
  } else if (action === 'input_timeout') {
    const message = `Nobody answered the job's input request before ${iso(job.input_expires_at)} (its timeout_seconds).`;
    const error = JSON.stringify({ code: JOB_ERROR_CODES.inputTimeout, message });
    await transition(tx, job, { to: 'failed', patch: { error }, inputRequestStatus: 'expired' });
  } else if (action === 'lease_expired') {
    if (job.cancel_requested_at != null) {
      const code = (job.cancel_code ?? 'cancelled') as CancelCode;
      await transition(tx, job, { to: 'cancelled', patch: { error: cancellationError(code) }, event: { confirmed_by: 'lease_expiry' } });
    } else if (job.attempt < job.max_attempts) {
      await requeueJob(tx, job, { reason: 'lease_expired' });
    } else {
      await fail(tx, job, JOB_ERROR_CODES.leaseExpired, `The worker's lease expired on attempt ${job.attempt} of ${job.max_attempts}.`);
    }
  } else {
    // A delayed job became ready: its agent's waiting workers are woken to claim it (in every process).
    if (job.status === 'queued' && job.ready_at != null && job.ready_at <= tx.now) tx.notify('agent', job.agent_id);
    // File the timer the row's fields give now (the next one, or none).
    await updateJob(tx, job.id, { timer_at: timerAt(job, tx.now) });
  }
}

function fail(tx: Tx, job: JobRow, code: string, message: string): Promise<JobRow> {
  return transition(tx, job, { to: 'failed', patch: { error: JSON.stringify({ code, message }) } });
}
