import { JOB_STATUSES } from '@agentjobs/sdk/protocol';
import { notFound } from '../domain/jobs-error.js';
import { iso } from '../domain/time.js';
import type { BatchRow, JobRow } from '../store/rows.js';
import { countBatchEnd, getBatch } from '../store/repo/batches-repo.js';
import { countBatchJobs, listActiveInBatch } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { requestCancel } from './cancel-job.js';
import type { JobsContext, Principal } from './context.js';
import { queueMessage } from './enqueue-webhooks.js';

const q = JSON.stringify;

/** `GET /v1/batches/{id}`: the batch with its jobs counted by status, and `completed_at` once all ended. */
export function getBatchJson(ctx: JobsContext, principal: Principal, batchId: string): Promise<string> {
  return ctx.store.read(async (tx) => renderBatch(tx, await batchOf(tx, principal, batchId)));
}

/**
 * `POST /v1/batches/{id}/cancel`: cancels every unfinished job of the batch, as `POST /v1/jobs/{id}/cancel`
 * would (queued ones at once, running ones once their agent confirms), in one transaction.
 */
export function cancelBatch(ctx: JobsContext, principal: Principal, batchId: string): Promise<string> {
  return ctx.store.write(async (tx) => {
    const batch = await batchOf(tx, principal, batchId);
    for (const job of await listActiveInBatch(tx, batch.id)) await requestCancel(tx, job, 'cancelled');
    return renderBatch(tx, (await getBatch(tx, principal.tenantId, batch.id))!);
  });
}

/**
 * Counts the end of a job of a batch, in the transaction of its transition. The end that completes the batch
 * writes one `batch.completed` webhook message for each of the batch's observers, in the same transaction.
 */
export async function recordBatchEnd(tx: Tx, job: JobRow): Promise<void> {
  const batch = await countBatchEnd(tx, job.batch_id!);
  if (!batch || batch.ended !== batch.total) return;
  const observers = JSON.parse(batch.observers) as Array<{ url: string; secret: string | null }>;
  if (observers.length === 0) return;
  const body = `{"type":"batch.completed","timestamp":"${iso(tx.now)}","data":{"batch":${await renderBatch(tx, batch)}}}`;
  for (const observer of observers) {
    await queueMessage(tx, {
      tenantId: batch.tenant_id,
      jobId: batch.id,
      observerJobId: batch.id,
      url: observer.url,
      secret: observer.secret,
      type: 'batch.completed',
      sequence: 1,
      body,
    });
  }
}

async function batchOf(tx: Tx, principal: Principal, batchId: string): Promise<BatchRow> {
  const batch = await getBatch(tx, principal.tenantId, batchId);
  if (!batch) throw notFound('batch', batchId);
  return batch;
}

/** The batch object, its counts read in the same transaction. */
async function renderBatch(tx: Tx, batch: BatchRow): Promise<string> {
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<string, number>;
  for (const row of await countBatchJobs(tx, batch.id)) counts[row.status] = Number(row.n);
  const observers = (JSON.parse(batch.observers) as Array<{ url: string; secret: string | null }>).map((o) => ({
    type: 'webhook',
    url: o.url,
    events: ['batch.completed'],
    has_secret: o.secret != null,
  }));
  return (
    `{"id":${q(batch.id)},"total":${batch.total},"counts":${q(counts)},"metadata":${batch.metadata}` +
    `,"observers":${q(observers)},"created_at":${q(iso(batch.created_at))},"completed_at":${q(iso(batch.completed_at))}}`
  );
}
