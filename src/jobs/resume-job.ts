import { timerAt } from '../domain/job-rules.js';
import { iso } from '../domain/time.js';
import type { JobRow } from '../store/rows.js';
import { listJobInputRequests } from '../store/repo/input-requests-repo.js';
import { listJobMessages } from '../store/repo/job-messages-repo.js';
import { updateJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import { renderInputRequest } from './render-input-request.js';
import { renderJobMessage } from './render-job-message.js';
import { loadJobJson } from './render-job.js';

/** The columns a claim sets on each job it leases. */
export type LeasePatch = Pick<JobRow, 'lease_token' | 'lease_expires_at' | 'lease_ms' | 'worker_id'>;

/**
 * A claim takes back a job that a person answered: it was `running` all along, so it gets a new lease without a
 * transition (no webhook, the same `attempt`), and a `job.resumed` event says which worker took it.
 */
export async function resumeJob(tx: Tx, job: JobRow, lease: LeasePatch): Promise<JobRow> {
  const patch: Partial<JobRow> = { ...lease, ready_at: null, messages_handed: job.message_count };
  const next: JobRow = { ...job, ...patch };
  patch.timer_at = next.timer_at = timerAt(next, tx.now);
  await updateJob(tx, job.id, patch);
  await appendEvent(tx, next, 'job.resumed', { attempt: job.attempt, worker_id: lease.worker_id });
  return next;
}

/**
 * One entry of a claim's answer: the job, its lease, and the whole exchange beside it — every input request of
 * the job with its answer and every message, oldest first (read only when the job has any).
 */
export async function claimEntry(tx: Tx, job: JobRow, token: string, expiresAt: number): Promise<string> {
  const inputs = job.input_count > 0 ? (await listJobInputRequests(tx, job.id)).map(renderInputRequest).join(',') : '';
  const messages = job.message_count > 0 ? (await listJobMessages(tx, job.id, 0, job.message_count)).map(renderJobMessage).join(',') : '';
  return `{"job":${await loadJobJson(tx, job)},"lease":{"token":"${token}","expires_at":"${iso(expiresAt)}"},"inputs":[${inputs}],"messages":[${messages}]}`;
}
