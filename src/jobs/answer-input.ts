import type { AnswerInputRequest } from '@agentjobs/sdk/protocol';
import { timerAt } from '../domain/job-rules.js';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { byteLength, stableStringify } from '../domain/json.js';
import { iso } from '../domain/time.js';
import type { InputRequestRow, JobRow } from '../store/rows.js';
import { getInputRequest, updateInputRequest } from '../store/repo/input-requests-repo.js';
import { getJob, updateJob } from '../store/repo/jobs-repo.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { loadJobJson } from './render-job.js';
import { describeAll } from '../domain/schema-errors.js';

/**
 * `POST /v1/jobs/{id}/input`: a person answers the job's pending request (SPEC §9.1). The answer is checked
 * against the request's `input_schema`; then the job goes back to its agent's queue, still `running` with the
 * same `attempt`, and the next claim hands it to a worker with the whole exchange. The same answer sent twice is
 * 200 both times; any other answer to a request that is not pending is 409 `no_pending_input`. On any error
 * nothing is changed.
 */
export async function answerInput(ctx: JobsContext, principal: Principal, jobId: string, body: AnswerInputRequest): Promise<string> {
  const input = JSON.stringify(body.input ?? null);
  const size = byteLength(input);
  if (size > ctx.limits.inputBytes) {
    throw new JobsError('payload_too_large', `input is ${size} bytes; the limit is ${ctx.limits.inputBytes} bytes. Answer with less, or with a reference to it.`);
  }
  return ctx.store.write(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId, true);
    if (!job) throw notFound('job', jobId);
    const request = await getInputRequest(tx, job.id, body.request_id);
    if (request?.status === 'answered' && stableStringify(JSON.parse(request.input ?? 'null')) === stableStringify(body.input ?? null)) {
      return loadJobJson(tx, job);
    }
    assertPending(job, request, body.request_id, tx.now);
    if (request.input_schema != null) {
      const errors = ctx.validators.check(request.input_schema, body.input ?? null);
      if (errors) {
        const shown = describeAll(errors, 'input');
        throw new JobsError(
          'input_schema_mismatch',
          `input does not match the request's input_schema: ${shown.slice(0, 3).join('; ')}${shown.length > 3 ? `; and ${shown.length - 3} more (see details)` : ''}. Nothing was recorded: fix the answer and send it again.`,
          errors.map((e) => ({ path: e.instancePath, keyword: e.keyword, message: e.message, params: e.params })),
        );
      }
    }
    await updateInputRequest(tx, request.id, { status: 'answered', input, answered_at: tx.now });
    // Ready for a claim again, at its original place in the queue: a person who answered waits for it too.
    const patch: Partial<JobRow> = { waiting_for: null, input_expires_at: null, ready_at: job.created_at };
    const next: JobRow = { ...job, ...patch };
    patch.timer_at = next.timer_at = timerAt(next, tx.now);
    await updateJob(tx, job.id, patch);
    tx.notify('agent', job.agent_id);
    await appendEvent(tx, next, 'job.input_received', { request_id: request.id, kind: request.kind, input: body.input ?? null });
    return loadJobJson(tx, next);
  });
}

/** Throws 409 `no_pending_input`, saying why, unless `request` is the job's pending request. */
function assertPending(job: JobRow, request: InputRequestRow | undefined, requestId: string, now: number): asserts request is InputRequestRow {
  const pending = job.waiting_for != null ? (JSON.parse(job.waiting_for) as { id: string }).id : null;
  const advice = pending ? ` Its pending request is ${pending}.` : ' It is not waiting for input.';
  if (!request) throw noPending(`Job ${job.id} has no input request '${requestId.slice(0, 60)}'.${advice}`);
  if (request.status === 'answered') {
    throw noPending(`Input request ${request.id} was already answered at ${iso(request.answered_at)} with another input; a request takes one answer.`);
  }
  if (request.status === 'expired' || (request.status === 'pending' && request.expires_at != null && request.expires_at <= now)) {
    throw noPending(`Input request ${request.id} expired at ${iso(request.expires_at)} unanswered; its job failed with input_timeout.`);
  }
  if (request.status !== 'pending') throw noPending(`Input request ${request.id} was cancelled: job ${job.id} ended (${job.status}) before an answer came.`);
}

function noPending(message: string): JobsError {
  return new JobsError('no_pending_input', message);
}
