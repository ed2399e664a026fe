import type { DispatchRequest, SubjobRequest } from '@agentjobs/sdk/protocol';
import { JobsError } from '../domain/jobs-error.js';
import { incrementChildCount } from '../store/repo/jobs-repo.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { lockLeasedJob } from './lease.js';
import { dispatchBody, insertNewJob, prepareJob } from './new-job.js';

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
