import { type FailRequest, JOB_ERROR_CODES } from '@agentjobs/sdk/protocol';
import { cancellationError, type CancelCode } from '../domain/job-rules.js';
import type { JobsContext, Principal } from './context.js';
import { lockLeasedJob } from './lease.js';
import { enforceBudgets, recordTokens } from './record-tokens.js';
import { loadJobJson } from './render-job.js';
import { requeueJob } from './requeue-job.js';
import { transition } from './transition.js';
import { getJobById } from '../store/repo/jobs-repo.js';

/**
 * `POST /v1/jobs/{id}/fail`: the agent gives up on the job. While a cancel is requested this is the agent's
 * confirmation that it stopped, and the job becomes `cancelled`. A `retryable` failure puts the job back in the
 * queue while attempts remain; otherwise it is `failed` with the agent's error.
 */
export async function failJob(ctx: JobsContext, worker: Principal, jobId: string, input: FailRequest): Promise<string> {
  return ctx.store.write(async (tx) => {
    const job = await lockLeasedJob(tx, worker, jobId, input.lease_token);
    const report = await recordTokens(tx, job, input.tokens_used);
    if (await enforceBudgets(tx, report)) return loadJobJson(tx, (await getJobById(tx, jobId))!);
    const current = report.overBudget.length > 0 ? (await getJobById(tx, jobId))! : report.job;
    if (current.cancel_requested_at != null) {
      const code = (current.cancel_code ?? 'cancelled') as CancelCode;
      const done = await transition(tx, current, { to: 'cancelled', patch: { error: cancellationError(code) }, event: { confirmed_by: 'agent' } });
      return loadJobJson(tx, done);
    }
    const error = JSON.stringify({
      code: input.error.code ?? JOB_ERROR_CODES.agentError,
      message: input.error.message,
      ...(input.error.details !== undefined ? { details: input.error.details } : {}),
    });
    if (input.retryable && current.attempt < current.max_attempts) {
      const requeued = await requeueJob(tx, current, { reason: 'retry', error: JSON.parse(error) });
      return loadJobJson(tx, requeued);
    }
    const failed = await transition(tx, current, { to: 'failed', patch: { error } });
    return loadJobJson(tx, failed);
  });
}
