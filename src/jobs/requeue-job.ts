import type { Constraints } from '@agentjobs/sdk/protocol';
import { backoffDelayMs } from '../domain/backoff.js';
import { randomFraction } from '../domain/random.js';
import type { JobRow } from '../store/rows.js';
import type { Tx } from '../store/store.js';
import { transition } from './transition.js';

/**
 * Puts a running job back in the queue for its next attempt, after a retryable `fail` or an expired lease. With
 * `constraints.retry`, the next attempt waits for the policy's backoff (with jitter): the job is queued with
 * `scheduled_for` and `ready_at` then. Its `max_queue_seconds` counts again from when it is ready.
 */
export function requeueJob(tx: Tx, job: JobRow, event: Record<string, unknown>): Promise<JobRow> {
  const policy = (JSON.parse(job.brief) as { constraints?: Constraints }).constraints?.retry;
  const delay = policy ? backoffDelayMs(policy, job.attempt, randomFraction) : 0;
  const readyAt = tx.now + delay;
  const queueWindow = job.queue_deadline_at != null ? job.queue_deadline_at - (job.scheduled_for ?? job.created_at) : null;
  const patch: Partial<JobRow> = {
    attempt: job.attempt + 1,
    ...(policy ? { ready_at: readyAt, scheduled_for: readyAt } : {}),
    ...(queueWindow != null ? { queue_deadline_at: readyAt + queueWindow } : {}),
  };
  return transition(tx, job, { to: 'queued', patch, event: policy ? { ...event, retry_delay_ms: delay } : event });
}
