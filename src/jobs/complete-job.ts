import type { ErrorObject } from 'ajv';
import { type CompleteRequest, RESULT_REFUSED_ADVICE } from '@agentjobs/sdk/protocol';
import { JobsError, leaseLost } from '../domain/jobs-error.js';
import { byteLength } from '../domain/json.js';
import { safeEqual } from '../domain/secrets.js';
import { getJobById } from '../store/repo/jobs-repo.js';
import type { JobsContext, Principal } from './context.js';
import { assertLease, workersJob } from './lease.js';
import { enforceBudgets, recordTokens } from './record-tokens.js';
import { loadJobJson } from './render-job.js';
import { transition } from './transition.js';
import { describeAll } from '../domain/schema-errors.js';

/**
 * `POST /v1/jobs/{id}/complete`: the agent's result. It must match `brief.output_schema` (else 422 with the
 * validator's errors and the job stays running, so the agent can fix it and send again). A repeated identical
 * complete is answered 200 again; a complete while a cancel is requested is refused.
 */
export async function completeJob(ctx: JobsContext, worker: Principal, jobId: string, input: CompleteRequest): Promise<string> {
  const result = JSON.stringify(input.result ?? null);
  const size = byteLength(result);
  if (size > ctx.limits.resultBytes) {
    throw new JobsError(
      'payload_too_large',
      `result is ${size} bytes; the limit is ${ctx.limits.resultBytes} bytes. Store large output elsewhere and return a reference to it.`,
    );
  }
  return ctx.store.write(async (tx) => {
    const job = workersJob(await getJobById(tx, jobId, true), worker, jobId);
    if (job.status === 'completed' && job.lease_token != null && safeEqual(job.lease_token, input.lease_token)) {
      if (job.result === result) return loadJobJson(tx, job);
      throw new JobsError('job_already_finished', `Job ${jobId} was already completed with a different result.`);
    }
    assertLease(job, input.lease_token, tx.now);
    if (job.cancel_requested_at != null) {
      throw new JobsError(
        'cancel_requested',
        `Job ${jobId} is being cancelled; confirm with POST /v1/jobs/${jobId}/fail instead of completing it.`,
      );
    }
    if (job.output_schema != null) {
      const errors = ctx.validators.check(job.output_schema, input.result);
      if (errors) {
        throw new JobsError(
          'output_schema_mismatch',
          `result does not match brief.output_schema: ${describeResultErrors(errors)}. ${RESULT_REFUSED_ADVICE}`,
          errors.map((e) => ({ path: e.instancePath, keyword: e.keyword, message: e.message, params: e.params })),
        );
      }
    }
    const report = await recordTokens(tx, job, input.tokens_used);
    if (await enforceBudgets(tx, report)) {
      throw leaseLost(jobId, 'the job crossed its token budget and failed with token_budget_exceeded');
    }
    const current = report.overBudget.length > 0 ? (await getJobById(tx, jobId))! : report.job;
    if (current.cancel_requested_at != null) {
      throw new JobsError('cancel_requested', `Job ${jobId} is being cancelled (an ancestor crossed its token budget).`);
    }
    const done = await transition(tx, current, { to: 'completed', patch: { result } });
    return loadJobJson(tx, done);
  });
}

/** The first three problems of a result, named under `result` (`result.summary`, `result[0]`), then how many more. */
function describeResultErrors(errors: ErrorObject[]): string {
  const shown = describeAll(errors, 'result');
  return shown.slice(0, 3).join('; ') + (shown.length > 3 ? `; and ${shown.length - 3} more (see details)` : '');
}
