import type { DispatchRequest } from '@agentjobs/sdk/protocol';
import { resolveStart, type StartRequest } from '../domain/delayed-start.js';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { resolveLimits, timerAt, wakesTimerSweep } from '../domain/job-rules.js';
import type { Limits } from '../domain/limits.js';
import { byteLength } from '../domain/json.js';
import { newId } from '../domain/ids.js';
import { iso, type Millis } from '../domain/time.js';
import type { JobRow, StoredObserver } from '../store/rows.js';
import { isLiveAgent } from '../store/repo/agents-repo.js';
import { insertJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import type { JobsContext } from './context.js';

/** A job as checked before its transaction: everything that needs no database, done once. */
export interface PreparedJob {
  agentId: string;
  brief: DispatchRequest['brief'];
  metadata: string;
  observers: Omit<StoredObserver, 'job_id'>[];
  outputSchema: string | null;
  start: StartRequest;
  /** What errors prefix to field names: `jobs[3].` for an item of a batch, '' otherwise. */
  field: string;
}

/** Where a new job comes from, beyond a plain dispatch. */
export interface JobOrigin {
  scheduleId?: string;
  batchId?: string;
  rerunOf?: string;
  /** A start time decided by the server (a schedule's fire time), instead of the request's. */
  scheduledFor?: Millis;
}

/** What a dispatch request carries that becomes a job (a dispatch, a subjob, a batch item, a re-run). */
export type JobRequest = Pick<DispatchRequest, 'agent_id' | 'brief' | 'observers' | 'metadata' | 'not_before' | 'delay_seconds'>;

/** Checks sizes, compiles the output schema and checks observer URLs, before any transaction. */
export async function prepareJob(ctx: JobsContext, input: JobRequest, field = ''): Promise<PreparedJob> {
  const { limits } = ctx;
  const { brief } = input;
  tooLarge(`${field}brief.objective`, byteLength(brief.objective), limits.objectiveBytes);
  if (brief.context != null) tooLarge(`${field}brief.context`, byteLength(brief.context), limits.contextBytes);
  const metadata = JSON.stringify(input.metadata ?? {});
  tooLarge(`${field}metadata`, byteLength(metadata), limits.metadataBytes);
  if (Object.keys(input.metadata ?? {}).length > limits.metadataKeys)
    throw new JobsError('invalid_request', `${field}metadata has more than ${limits.metadataKeys} keys; keep it to ${limits.metadataKeys}.`);
  if ((input.observers?.length ?? 0) > limits.observersPerJob)
    throw new JobsError('invalid_request', `${field}observers has more than ${limits.observersPerJob} entries.`);

  let outputSchema: string | null = null;
  if (brief.output_schema !== undefined) {
    outputSchema = JSON.stringify(brief.output_schema);
    prefixed(field, () => ctx.validators.accept(outputSchema!));
  }
  const observers = [];
  for (const [i, observer] of (input.observers ?? []).entries()) {
    await checkObserverUrl(ctx, observer.url, `${field}observers[${i}].url`);
    observers.push({
      url: observer.url,
      events: observer.events ?? ['running', 'completed', 'failed', 'cancelled'],
      secret: observer.secret ?? null,
    });
  }
  const start = { not_before: input.not_before, delay_seconds: input.delay_seconds };
  if (start.not_before != null && start.delay_seconds != null)
    throw new JobsError('invalid_request', `${field}not_before and ${field}delay_seconds were both given; send one of them.`);
  return { agentId: input.agent_id, brief, metadata, observers, outputSchema, start, field };
}

/** Checks an observer's URL as a dispatch does (the address guard); an error names `field`. */
export async function checkObserverUrl(ctx: JobsContext, url: string, field: string): Promise<void> {
  try {
    await ctx.checkObserverUrl(url);
  } catch (error) {
    if (error instanceof JobsError) throw new JobsError(error.code, `${field}: ${error.message}`, error.details);
    throw error;
  }
}

/** Runs `fn`, prefixing the message of a JobsError it throws with `field` (an item of a batch). */
export function prefixed<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (field && error instanceof JobsError) throw new JobsError(error.code, `${field}${error.message}`, error.details);
    throw error;
  }
}

function tooLarge(field: string, size: number, limit: number): void {
  if (size > limit)
    throw new JobsError('payload_too_large', `${field} is ${size} bytes; the limit is ${limit} bytes. Move large material behind a URL.`);
}

/** Inserts a job (root or child) with its first event, in the caller's transaction. */
export async function insertNewJob(
  tx: Tx,
  limits: Limits,
  tenantId: string,
  prepared: PreparedJob,
  parent: JobRow | null,
  onParentEnd: 'cancel' | 'continue',
  origin: JobOrigin = {},
): Promise<JobRow> {
  if (!(await isLiveAgent(tx, tenantId, prepared.agentId))) throw notFound('agent', prepared.agentId);
  const job = buildJobRow(tx, limits, tenantId, prepared, parent, onParentEnd, origin);
  await insertJob(tx, job);
  await appendEvent(tx, job, 'job.queued', queuedEvent(job), parent ? undefined : 1);
  announceNewJob(tx, job);
  return job;
}

/** The data of a new job's `job.queued` event. */
export function queuedEvent(job: JobRow): Record<string, unknown> {
  return job.scheduled_for == null ? { status: 'queued', attempt: 1 } : { status: 'queued', attempt: 1, scheduled_for: iso(job.scheduled_for) };
}

/**
 * Wakes the agent's waiting workers for a new job that is ready now (a delayed one wakes them through its timer),
 * and the timer sweep when the job has a timer due soon.
 */
export function announceNewJob(tx: Tx, job: JobRow): void {
  if (job.ready_at != null && job.ready_at <= tx.now) tx.notify('agent', job.agent_id);
  if (wakesTimerSweep(job.timer_at, null, tx.now)) tx.notify('timer', '');
}

/**
 * The row of a new job, its limits resolved against its parent's. A delayed job is queued with `ready_at` at its
 * `scheduled_for`: no claim reads it earlier, and its timer wakes waiting workers then. `max_queue_seconds`
 * counts from that time.
 */
export function buildJobRow(
  tx: Tx,
  limits: Limits,
  tenantId: string,
  prepared: PreparedJob,
  parent: JobRow | null,
  onParentEnd: 'cancel' | 'continue',
  origin: JobOrigin,
): JobRow {
  const id = newId('job', tx.now);
  const scheduledFor = origin.scheduledFor ?? resolveStart(prepared.start, tx.now, limits, prepared.field);
  const readyAt = Math.max(scheduledFor ?? tx.now, tx.now);
  const resolved = resolveLimits(prepared.brief.constraints, parent, limits, readyAt);
  const brief = resolved.constraints === prepared.brief.constraints ? prepared.brief : { ...prepared.brief, constraints: resolved.constraints };
  const observers: StoredObserver[] = [
    ...(parent ? (JSON.parse(parent.observers) as StoredObserver[]) : []),
    ...prepared.observers.map((o) => ({ job_id: id, ...o })),
  ];
  const job: JobRow = {
    id,
    tenant_id: tenantId,
    agent_id: prepared.agentId,
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
    ready_at: readyAt,
    scheduled_for: scheduledFor,
    schedule_id: origin.scheduleId ?? null,
    batch_id: origin.batchId ?? null,
    rerun_of: origin.rerunOf ?? null,
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
  job.timer_at = timerAt(job, tx.now);
  return job;
}

/** The seed's 202 body: exactly id, agent_id, status and created_at. */
export function dispatchBody(job: JobRow): string {
  return `{"id":"${job.id}","agent_id":"${job.agent_id}","status":"queued","created_at":"${iso(job.created_at)}"}`;
}
