import type { Brief, RerunRequest } from '@agentjobs/sdk/protocol';
import { notFound } from '../domain/jobs-error.js';
import type { JobRow, StoredObserver } from '../store/rows.js';
import { getJob } from '../store/repo/jobs-repo.js';
import type { JobsContext, Principal } from './context.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { dispatchBody, insertNewJob, prepareJob, type JobRequest } from './new-job.js';

/**
 * `POST /v1/jobs/{id}/rerun`: a new job with the original's brief (the fields given replace its own), its
 * observers and metadata, for the same agent or another; `rerun_of` names the original. 202 as a dispatch.
 */
export async function rerunJob(
  ctx: JobsContext,
  principal: Principal,
  jobId: string,
  input: RerunRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  const original = await ctx.store.read((tx) => getJob(tx, principal.tenantId, jobId));
  if (!original) throw notFound('job', jobId);
  const prepared = await prepareJob(ctx, rerunRequest(original, input));
  const idem = idempotencyKey ? { key: idempotencyKey, scope: `rerun:${jobId}`, body: input } : null;
  return ctx.store.write((tx) =>
    idempotent(tx, principal.tenantId, idem, async () => {
      const job = await insertNewJob(tx, ctx.limits, principal.tenantId, prepared, null, 'cancel', { rerunOf: original.id });
      return { status: 202, body: dispatchBody(job), createdId: job.id };
    }),
  );
}

/** The dispatch that re-runs a job: its brief with the given fields replaced, its own observers, its metadata. */
export function rerunRequest(original: JobRow, input: RerunRequest = {}): JobRequest {
  const brief = { ...(JSON.parse(original.brief) as Brief), ...input.brief };
  const observers = (JSON.parse(original.observers) as StoredObserver[])
    .filter((o) => o.job_id === original.id)
    .map((o) => ({ type: 'webhook' as const, url: o.url, events: o.events as never, ...(o.secret ? { secret: o.secret } : {}) }));
  return { agent_id: input.agent_id ?? original.agent_id, brief, observers, metadata: JSON.parse(original.metadata) };
}
