import { leaseLost } from '../domain/jobs-error.js';
import { safeEqual } from '../domain/secrets.js';
import { iso } from '../domain/time.js';
import type { JobRow } from '../store/rows.js';
import { getJobById } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { notFound } from '../domain/jobs-error.js';
import type { Principal } from './context.js';

/**
 * Loads a job for a worker call and checks the fencing token: the job must be running, under this lease, and
 * the lease must not have expired (in database time). A worker whose lease was taken away — expired and
 * re-leased, cancelled, timed out — gets 409 `lease_lost` and can never touch the newer attempt.
 */
export async function lockLeasedJob(tx: Tx, worker: Principal, jobId: string, leaseToken: string): Promise<JobRow> {
  const job = workersJob(await getJobById(tx, jobId, true), worker, jobId);
  assertLease(job, leaseToken, tx.now);
  return job;
}

/**
 * `job` when the caller may act on it as a worker: a job of its tenant and, for a worker token, of its agent
 * (a token belongs to one agent). Anything else is 404, as if the job did not exist: a worker learns nothing
 * about other agents' jobs, not even their status.
 */
export function workersJob(job: JobRow | undefined, worker: Principal, jobId: string): JobRow {
  if (!job || job.tenant_id !== worker.tenantId || (worker.kind === 'worker' && job.agent_id !== worker.agentId)) {
    throw notFound('job', jobId);
  }
  return job;
}

/** Throws `lease_lost` unless `leaseToken` holds `job` at `now`. */
export function assertLease(job: JobRow, leaseToken: string, now: number): void {
  if (job.status !== 'running') throw leaseLost(job.id, `the job is ${job.status}`);
  // Asking a person spends the lease: until the answer, no worker holds the job; after it, the next claim does.
  if (job.waiting_for != null) throw leaseLost(job.id, 'the job waits for a person to answer its input request; the lease ended with the request');
  if (job.ready_at != null) throw leaseLost(job.id, 'the job was answered and waits for a worker to claim it again');
  if (job.lease_token == null || !safeEqual(job.lease_token, leaseToken))
    throw leaseLost(job.id, `this lease token is not attempt ${job.attempt}'s — check that you send the lease_token your claim returned`);
  if (job.lease_expires_at != null && job.lease_expires_at <= now)
    throw leaseLost(job.id, `the lease expired at ${iso(job.lease_expires_at)}`);
  // Past its deadline a job is over, even in the moment before the timer records it.
  if (job.deadline_at != null && job.deadline_at <= now) throw leaseLost(job.id, `the job ran past its deadline ${iso(job.deadline_at)}`);
}
