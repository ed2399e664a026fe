import type { DispatchRequest, SubjobRequest } from '@agentjobs/sdk/protocol';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { resolveLimits, timerAt, wakesTimerSweep } from '../domain/job-rules.js';
import type { Limits } from '../domain/limits.js';
import { byteLength } from '../domain/json.js';
import { newId } from '../domain/ids.js';
import { iso } from '../domain/time.js';
import type { JobRow, StoredObserver } from '../store/rows.js';
import { isLiveAgent } from '../store/repo/agents-repo.js';
import { incrementChildCount, insertJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { lockLeasedJob } from './lease.js';

/** A job as checked before its transaction: everything that needs no database, done once. */
interface PreparedJob {
  agentId: string;
  brief: DispatchRequest['brief'];
  metadata: string;
  observers: Omit<StoredObserver, 'job_id'>[];
  outputSchema: string | null;
}

/**
 * `POST /v1/jobs`: stores a job for an agent and answers the seed's 202 body. The job is durably stored when
 * this resolves (the group commit has fsynced it).
 */
export async function dispatchJob(
  ctx: JobsContext,
  principal: Principal,
  input: DispatchRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  const prepared = await prepareJob(ctx, input);
  return ctx.store.write((tx) =>
    idempotent(tx, principal.tenantId, idempotencyKey ? { key: idempotencyKey, scope: 'POST /v1/jobs', body: input } : null, async () => {
      const job = await insertNewJob(tx, ctx.limits, principal.tenantId, prepared, null, 'cancel');
      return { status: 202, body: dispatchBody(job), createdId: job.id };
    }),
  );
}

/**
 * `POST /v1/jobs/{id}/subjobs`: a dispatch by the agent that holds the parent's lease. The child inherits the
 * parent's remaining time and budget, counts against its `max_subjobs` and `max_depth`, and a retried
 * dispatch with the same `Idempotency-Key` — even from a later attempt of the parent — returns the same child.
 */
export async function dispatchSubjob(
  ctx: JobsContext,
  worker: Principal,
  parentId: string,
  input: SubjobRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  const { lease_token: leaseToken, on_parent_end: onParentEnd = 'cancel', ...request } = input;
  const prepared = await prepareJob(ctx, request);
  return ctx.store.write(async (tx) => {
    const parent = await lockLeasedJob(tx, worker, parentId, leaseToken);
    const idem = idempotencyKey ? { key: idempotencyKey, scope: `subjobs:${parentId}`, body: { ...request, on_parent_end: onParentEnd } } : null;
    return idempotent(tx, worker.tenantId, idem, async () => {
      if (parent.cancel_requested_at != null)
        throw new JobsError('cancel_requested', `Job ${parent.id} is being cancelled: stop its work instead of dispatching more.`);
      if (parent.depth + 1 > parent.depth_limit)
        throw new JobsError(
          'depth_limit_reached',
          `Job ${parent.id} is at depth ${parent.depth}; its tree may not go deeper than depth ${parent.depth_limit} (max_depth). Do the work in this job instead of delegating it.`,
        );
      if (parent.child_count >= parent.subjob_limit)
        throw new JobsError(
          'subjob_limit_reached',
          `Job ${parent.id} has dispatched ${parent.child_count} subjobs, its limit (max_subjobs is ${parent.subjob_limit}).`,
        );
      const child = await insertNewJob(tx, ctx.limits, worker.tenantId, prepared, parent, onParentEnd);
      await incrementChildCount(tx, parent.id);
      await appendEvent(tx, parent, 'job.subjob_dispatched', { subjob_id: child.id, agent_id: child.agent_id });
      return { status: 202, body: dispatchBody(child), createdId: child.id };
    });
  });
}

/** The seed's 202 body: exactly id, agent_id, status and created_at. */
function dispatchBody(job: JobRow): string {
  return `{"id":"${job.id}","agent_id":"${job.agent_id}","status":"queued","created_at":"${iso(job.created_at)}"}`;
}

/** Checks sizes, compiles the output schema and checks observer URLs, before any transaction. */
async function prepareJob(ctx: JobsContext, input: Omit<DispatchRequest, never>): Promise<PreparedJob> {
  const { limits } = ctx;
  const { brief } = input;
  tooLarge('brief.objective', byteLength(brief.objective), limits.objectiveBytes);
  if (brief.context != null) tooLarge('brief.context', byteLength(brief.context), limits.contextBytes);
  const metadata = JSON.stringify(input.metadata ?? {});
  tooLarge('metadata', byteLength(metadata), limits.metadataBytes);
  if (Object.keys(input.metadata ?? {}).length > limits.metadataKeys)
    throw new JobsError('invalid_request', `metadata has more than ${limits.metadataKeys} keys; keep it to ${limits.metadataKeys}.`);
  if ((input.observers?.length ?? 0) > limits.observersPerJob)
    throw new JobsError('invalid_request', `observers has more than ${limits.observersPerJob} entries.`);

  let outputSchema: string | null = null;
  if (brief.output_schema !== undefined) {
    outputSchema = JSON.stringify(brief.output_schema);
    ctx.validators.accept(outputSchema);
  }
  const observers = [];
  for (const [i, observer] of (input.observers ?? []).entries()) {
    try {
      await ctx.checkObserverUrl(observer.url);
    } catch (error) {
      if (error instanceof JobsError) throw new JobsError(error.code, `observers[${i}].url: ${error.message}`, error.details);
      throw error;
    }
    observers.push({
      url: observer.url,
      events: observer.events ?? ['running', 'completed', 'failed', 'cancelled'],
      secret: observer.secret ?? null,
    });
  }
  return { agentId: input.agent_id, brief, metadata, observers, outputSchema };
}

function tooLarge(field: string, size: number, limit: number): void {
  if (size > limit)
    throw new JobsError('payload_too_large', `${field} is ${size} bytes; the limit is ${limit} bytes. Move large material behind a URL.`);
}

/** Inserts a job (root or child) with its first event, in the caller's transaction. */
async function insertNewJob(
  tx: Tx,
  limits: Limits,
  tenantId: string,
  prepared: PreparedJob,
  parent: JobRow | null,
  onParentEnd: 'cancel' | 'continue',
): Promise<JobRow> {
  const agentId = prepared.agentId;
  if (!(await isLiveAgent(tx, tenantId, agentId))) throw notFound('agent', agentId);
  const id = newId('job', tx.now);
  const resolved = resolveLimits(prepared.brief.constraints, parent, limits, tx.now);
  const brief = resolved.constraints === prepared.brief.constraints ? prepared.brief : { ...prepared.brief, constraints: resolved.constraints };
  const observers: StoredObserver[] = [
    ...(parent ? (JSON.parse(parent.observers) as StoredObserver[]) : []),
    ...prepared.observers.map((o) => ({ job_id: id, ...o })),
  ];
  const job: JobRow = {
    id,
    tenant_id: tenantId,
    agent_id: agentId,
    status: 'queued',
    brief: JSON.stringify(brief),
    metadata: prepared.metadata,
    observers: JSON.stringify(observers),
    output_schema: prepared.outputSchema,
    parent_job_id: parent?.id ?? null,
    root_job_id: parent?.root_job_id ?? id,
    path: parent ? (parent.path === '' ? parent.id : `${parent.path},${parent.id}`) : '',
    depth: resolved.depth,
    on_parent_end: onParentEnd,
    result: null,
    error: null,
    progress: null,
    tokens_self: 0,
    tokens_total: 0,
    token_budget: resolved.tokenBudget,
    attempt: 1,
    max_attempts: resolved.maxAttempts,
    lease_token: null,
    lease_expires_at: null,
    lease_ms: null,
    worker_id: null,
    deadline_at: resolved.deadlineAt,
    queue_deadline_at: resolved.queueDeadlineAt,
    max_duration_ms: resolved.maxDurationMs,
    timer_at: null,
    ready_at: tx.now,
    depth_limit: resolved.depthLimit,
    subjob_limit: resolved.subjobLimit,
    child_count: 0,
    cancel_requested_at: null,
    cancel_code: null,
    transition_seq: 0,
    // A new root's counter starts at its own first event, so that event needs no extra update.
    event_seq: parent ? 0 : 1,
    created_at: tx.now,
    started_at: null,
    completed_at: null,
    updated_at: tx.now,
    waiting_for: null,
    input_expires_at: null,
    input_count: 0,
    message_count: 0,
    messages_handed: 0,
    output_bytes: 0,
    artifacts: '[]',
  };
  job.timer_at = timerAt(job);
  await insertJob(tx, job);
  await appendEvent(tx, job, 'job.queued', { status: 'queued', attempt: 1 }, parent ? undefined : 1);
  tx.notify('agent', agentId);
  if (wakesTimerSweep(job.timer_at, null, tx.now)) tx.notify('timer', '');
  return job;
}
