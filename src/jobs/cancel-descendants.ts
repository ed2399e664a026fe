import { cancellationError, heldByNoWorker } from '../domain/job-rules.js';
import type { JobRow } from '../store/rows.js';
import { listActiveInTree, updateJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import { transition } from './transition.js';

/** Why descendants are being cancelled. */
export type CascadeReason = 'parent_cancelled' | 'parent_finished';

/**
 * Cancels the unfinished descendants of a job, honestly: queued ones and ones waiting for a person (no worker
 * holds them) become `cancelled` at once; running ones
 * get `cancel_requested_at` and become `cancelled` when their agent confirms or their lease ends.
 *
 * When the job has merely finished (`parent_finished`), a child dispatched with `on_parent_end: "continue"`
 * keeps running, and so does everything under it. When the job was cancelled, every descendant is cancelled.
 */
export async function cancelDescendants(tx: Tx, job: JobRow, reason: CascadeReason): Promise<void> {
  const active = await listActiveInTree(tx, job.root_job_id);
  if (active.length === 0) return;
  const byId = new Map(active.map((row) => [row.id, row]));
  const affected = active.filter((row) => {
    const chain = row.path.split(',');
    const at = chain.indexOf(job.id);
    if (at < 0) return false;
    if (reason === 'parent_cancelled') return true;
    // Every job between `job` and this one must be unfinished and willing to end with its parent.
    for (const id of [...chain.slice(at + 1), row.id]) {
      const link = byId.get(id);
      if (!link || link.on_parent_end === 'continue') return false;
    }
    return true;
  });
  for (const row of affected) {
    if (row.status === 'queued' || heldByNoWorker(row)) {
      await transition(tx, row, {
        to: 'cancelled',
        patch: { error: cancellationError(reason), cancel_code: reason },
        cascade: false,
      });
    } else if (row.cancel_requested_at == null) {
      await updateJob(tx, row.id, { cancel_requested_at: tx.now, cancel_code: reason });
      await appendEvent(tx, row, 'job.cancel_requested', { reason, by: job.id });
    }
  }
}
