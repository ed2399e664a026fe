import type { CreateBatchRequest } from '@agentjobs/sdk/protocol';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { newId } from '../domain/ids.js';
import { wakesTimerSweep } from '../domain/job-rules.js';
import { iso } from '../domain/time.js';
import type { BatchRow, EventRow, JobRow } from '../store/rows.js';
import { isLiveAgent } from '../store/repo/agents-repo.js';
import { insertBatch } from '../store/repo/batches-repo.js';
import { insertEvents } from '../store/repo/events-repo.js';
import { insertJobs } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import type { JobsContext, Principal } from './context.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { buildJobRow, checkObserverUrl, prepareJob, queuedEvent, type PreparedJob } from './new-job.js';

/**
 * `POST /v1/batches`: up to 1,000 jobs in one transaction — all stored, or none. Each item is checked before the
 * transaction, and an error names the item (`jobs[3].brief.objective`). The jobs' rows are built once and
 * written with multi-row statements, so a batch costs a few statements rather than thousands.
 */
export async function dispatchBatch(
  ctx: JobsContext,
  principal: Principal,
  input: CreateBatchRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  const prepared: PreparedJob[] = [];
  for (const [i, item] of input.jobs.entries()) prepared.push(await prepareJob(ctx, item, `jobs[${i}].`));
  const observers = await batchObservers(ctx, input.observers ?? []);
  const metadata = JSON.stringify(input.metadata ?? {});
  if (metadata.length > ctx.limits.metadataBytes)
    throw new JobsError('payload_too_large', `metadata is ${metadata.length} bytes; the limit is ${ctx.limits.metadataBytes} bytes.`);
  const idem = idempotencyKey ? { key: idempotencyKey, scope: 'POST /v1/batches', body: input } : null;
  return ctx.store.write((tx) =>
    idempotent(tx, principal.tenantId, idem, async () => {
      await checkAgents(tx, principal.tenantId, prepared);
      const batch: BatchRow = {
        id: newId('batch', tx.now),
        tenant_id: principal.tenantId,
        observers,
        metadata,
        total: prepared.length,
        ended: 0,
        created_at: tx.now,
        completed_at: null,
      };
      await insertBatch(tx, batch);
      const jobs = prepared.map((p) => buildJobRow(tx, ctx.limits, principal.tenantId, p, null, 'cancel', { batchId: batch.id }));
      await insertJobs(tx, jobs);
      await insertEvents(tx, jobs.map((job) => firstEvent(tx, job)));
      announce(tx, jobs);
      const ids = jobs.map((j) => `"${j.id}"`).join(',');
      return { status: 202, body: `{"id":"${batch.id}","job_ids":[${ids}],"created_at":"${iso(tx.now)}"}`, createdId: batch.id };
    }),
  );
}

/** Each agent the batch names must be a live agent of the tenant; the first that is not is named by its item. */
async function checkAgents(tx: Tx, tenantId: string, prepared: PreparedJob[]): Promise<void> {
  const checked = new Set<string>();
  for (const job of prepared) {
    if (checked.has(job.agentId)) continue;
    if (!(await isLiveAgent(tx, tenantId, job.agentId))) {
      const error = notFound('agent', job.agentId);
      throw new JobsError(error.code, `${job.field}agent_id: ${error.message}`);
    }
    checked.add(job.agentId);
  }
}

/** The `job.queued` event of a new root job: the first of its tree. */
function firstEvent(tx: Tx, job: JobRow): EventRow {
  return {
    id: newId('event', tx.now),
    tenant_id: job.tenant_id,
    job_id: job.id,
    root_job_id: job.id,
    sequence: 1,
    type: 'job.queued',
    data: JSON.stringify(queuedEvent(job)),
    created_at: tx.now,
  };
}

/** One wake-up per agent with jobs ready now, and one for the timer sweep if a job's timer is due soon. */
function announce(tx: Tx, jobs: JobRow[]): void {
  const agents = new Set<string>();
  for (const job of jobs) if (job.ready_at != null && job.ready_at <= tx.now) agents.add(job.agent_id);
  for (const agent of agents) tx.notify('agent', agent);
  if (jobs.some((job) => wakesTimerSweep(job.timer_at, null, tx.now))) tx.notify('timer', '');
}

/** The batch's observers as stored (with their secrets), their URLs checked as a dispatch checks them. */
async function batchObservers(ctx: JobsContext, observers: NonNullable<CreateBatchRequest['observers']>): Promise<string> {
  for (const [i, observer] of observers.entries()) await checkObserverUrl(ctx, observer.url, `observers[${i}].url`);
  return JSON.stringify(observers.map((o) => ({ url: o.url, secret: o.secret ?? null })));
}
