import type { JobStatus } from '@agentjobs/sdk/protocol';
import { isTerminal, timerAt, wakesTimerSweep } from '../domain/job-rules.js';
import type { JobRow } from '../store/rows.js';
import { updateJob, updateRootJobTakingSequence } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import { cancelDescendants } from './cancel-descendants.js';
import { enqueueWebhooks } from './enqueue-webhooks.js';
import { closePendingInput } from './close-pending-input.js';
import { recordBatchEnd } from './batches.js';

/** A change of status and the columns that change with it. */
export interface TransitionChange {
  to: JobStatus;
  patch?: Partial<JobRow>;
  /** Extra fields of the event (`reason`, `error`…). */
  event?: Record<string, unknown>;
  /** False when the caller cancels the descendants itself (a cascade in progress). @default true */
  cascade?: boolean;
  /** What a pending input request becomes when the job ends while it waits. @default "cancelled" */
  inputRequestStatus?: 'expired' | 'cancelled';
}

/**
 * The one way a job changes status. In the caller's transaction it: updates the row (with its timer and the
 * transition counter), ends a question the job was waiting on, appends the event, writes the webhook messages owed
 * to the observers of the job and its ancestors, wakes waiting workers, and — when the job ends — counts the end
 * of its batch and cancels the children that must not outlive it.
 */
export async function transition(tx: Tx, job: JobRow, change: TransitionChange): Promise<JobRow> {
  const from = job.status;
  const to = change.to;
  // Only a queued job is ready for a claim. Back in the queue without a later time of its own, it keeps its place.
  const readyAt = to === 'queued' ? (change.patch?.ready_at ?? job.created_at) : null;
  const resets = resetsOf(to, tx.now);
  const next: JobRow = { ...job, ...change.patch, status: to, ready_at: readyAt, transition_seq: job.transition_seq + 1, ...resets };
  // A job that ends while it waits for a person ends its question too.
  const endsWait = isTerminal(to) && job.waiting_for != null;
  if (endsWait) {
    next.waiting_for = null;
    next.input_expires_at = null;
  }
  next.timer_at = timerAt(next, tx.now);

  const patch: Partial<JobRow> = {
    ...change.patch,
    status: to,
    ready_at: readyAt,
    transition_seq: next.transition_seq,
    timer_at: next.timer_at,
    ...resets,
    ...(endsWait ? { waiting_for: null, input_expires_at: null } : {}),
  };
  // A root job holds its tree's event counter: the update takes the event's sequence too, in one statement.
  let sequence: number | undefined;
  if (job.id === job.root_job_id) sequence = await updateRootJobTakingSequence(tx, job.id, patch);
  else await updateJob(tx, job.id, patch);

  if (endsWait) await closePendingInput(tx, job.id, change.inputRequestStatus ?? 'cancelled');
  // A freed concurrency slot or a job back in the queue: waiting workers of the agent may claim now.
  if (from === 'running' || to === 'queued') tx.notify('agent', job.agent_id);
  if (wakesTimerSweep(next.timer_at, job.timer_at, tx.now)) tx.notify('timer', '');

  await appendEvent(tx, next, `job.${to}` as const, {
    status: to,
    attempt: next.attempt,
    ...(next.error && isTerminal(to) ? { error: JSON.parse(next.error) } : {}),
    ...change.event,
  }, sequence);
  await enqueueWebhooks(tx, next);
  if (isTerminal(to) && next.batch_id != null) await recordBatchEnd(tx, next);

  if (isTerminal(to) && next.child_count > 0 && change.cascade !== false) {
    await cancelDescendants(tx, next, 'parent_finished');
  }
  return next;
}

/** The columns a status sets whatever the change says: an ended job holds no lease; a queued one no lease or worker. */
function resetsOf(to: JobStatus, now: number): Partial<JobRow> {
  if (isTerminal(to)) return { completed_at: now, lease_expires_at: null };
  if (to === 'queued') return { lease_token: null, lease_expires_at: null, worker_id: null };
  return {};
}
