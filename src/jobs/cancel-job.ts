import { cancellationError, heldByNoWorker, isTerminal, type CancelCode } from '../domain/job-rules.js';
import { JobsError, notFound } from '../domain/jobs-error.js';
import type { JobRow } from '../store/rows.js';
import { getJob, updateJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import { cancelDescendants } from './cancel-descendants.js';
import type { JobsContext, Principal } from './context.js';
import { loadJobJson } from './render-job.js';
import { transition } from './transition.js';

/**
 * `POST /v1/jobs/{id}/cancel`, honestly: a queued job, or one waiting for a person (no worker holds either), is
 * cancelled at once; a running one keeps running with `cancel_requested_at` until its agent confirms (or its
 * lease ends), and only then is `cancelled`. Every unfinished descendant is cancelled the same way. Idempotent;
 * 409 on a completed or failed job.
 */
export async function cancelJob(ctx: JobsContext, principal: Principal, jobId: string): Promise<string> {
  return ctx.store.write(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId, true);
    if (!job) throw notFound('job', jobId);
    const after = await requestCancel(tx, job, 'cancelled');
    return loadJobJson(tx, after);
  });
}

/** Cancels a job (and its subtree) for `code`; resolves to the job's row afterwards. */
export async function requestCancel(tx: Tx, job: JobRow, code: CancelCode): Promise<JobRow> {
  if (job.status === 'completed' || job.status === 'failed') {
    throw new JobsError('job_already_finished', `Job ${job.id} already ${job.status}; there is nothing to cancel.`);
  }
  if (isTerminal(job.status) || job.cancel_requested_at != null) return job;
  let after: JobRow;
  // Nobody has to confirm the cancel of a job no worker holds: queued, or waiting for a person.
  if (job.status === 'queued' || heldByNoWorker(job)) {
    after = await transition(tx, job, {
      to: 'cancelled',
      patch: { error: cancellationError(code), cancel_code: code },
      cascade: false,
    });
  } else {
    await updateJob(tx, job.id, { cancel_requested_at: tx.now, cancel_code: code });
    await appendEvent(tx, job, 'job.cancel_requested', { reason: code });
    after = { ...job, cancel_requested_at: tx.now, cancel_code: code };
  }
  if (job.child_count > 0) await cancelDescendants(tx, after, 'parent_cancelled');
  return after;
}
