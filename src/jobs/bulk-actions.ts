import type { BulkFilter } from '@agentjobs/sdk/protocol';
import { JobsError } from '../domain/jobs-error.js';
import { getJobsByIds, listMatchingJobIds, type JobFilters } from '../store/repo/jobs-repo.js';
import { requestCancel } from './cancel-job.js';
import type { JobsContext, Principal } from './context.js';
import { insertNewJob, prepareJob, type PreparedJob } from './new-job.js';
import type { JobRow } from '../store/rows.js';
import { rerunRequest } from './rerun-job.js';
import { timeFilter } from './list-jobs.js';

/** Jobs moved per transaction: a bulk action over many jobs commits in steps, each one whole. */
const PAGE = 200;

/**
 * `POST /v1/jobs/bulk-cancel`: cancels the caller's queued and running jobs that match the filter (as a cancel of
 * each would). Resolves to `{"matched": n}`, the number of jobs whose cancellation it started.
 */
export async function bulkCancel(ctx: JobsContext, principal: Principal, filter: BulkFilter): Promise<string> {
  const ids = await matchingIds(ctx, principal, jobFilters(filter), true);
  let matched = 0;
  for (let at = 0; at < ids.length; at += PAGE) {
    matched += await ctx.store.write(async (tx) => {
      let moved = 0;
      for (const job of await getJobsByIds(tx, principal.tenantId, ids.slice(at, at + PAGE))) {
        // A job cancelled meanwhile (or by the cascade of an ancestor in this action) is not counted twice.
        if ((job.status !== 'queued' && job.status !== 'running') || job.cancel_requested_at != null) continue;
        await requestCancel(tx, job, 'cancelled');
        moved++;
      }
      return moved;
    });
  }
  return `{"matched":${matched}}`;
}

/**
 * `POST /v1/jobs/bulk-rerun`: re-runs every job of the caller's that matches the filter, as `rerun` would each.
 * The matching jobs are read first, so the new jobs (which may match the filter too) are not re-run again.
 */
export async function bulkRerun(ctx: JobsContext, principal: Principal, filter: BulkFilter): Promise<string> {
  const ids = await matchingIds(ctx, principal, jobFilters(filter), false);
  for (let at = 0; at < ids.length; at += PAGE) {
    const originals = await ctx.store.read((tx) => getJobsByIds(tx, principal.tenantId, ids.slice(at, at + PAGE)));
    const prepared: Array<{ original: JobRow; job: PreparedJob }> = [];
    for (const original of originals) prepared.push({ original, job: await prepareJob(ctx, rerunRequest(original)) });
    await ctx.store.write(async (tx) => {
      for (const { original, job } of prepared) await insertNewJob(tx, ctx.limits, principal.tenantId, job, null, 'cancel', { rerunOf: original.id });
    });
  }
  return `{"matched":${ids.length}}`;
}

/** Every id that matches, oldest first, read page by page before anything moves. */
async function matchingIds(ctx: JobsContext, principal: Principal, filters: JobFilters, activeOnly: boolean): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const page = await ctx.store.read((tx) => listMatchingJobIds(tx, principal.tenantId, filters, activeOnly, ids.at(-1) ?? null, 1000));
    ids.push(...page);
    if (page.length < 1000) return ids;
  }
}

/** The filter as the store takes it; an empty one is refused, as it would move every job of the tenant. */
export function jobFilters(filter: BulkFilter): JobFilters {
  if (Object.keys(filter).length === 0)
    throw new JobsError(
      'invalid_request',
      'filter is empty: give at least one of status, agent_id, batch_id, schedule_id, created_after, created_before, metadata (an empty filter would move every job).',
    );
  return {
    status: filter.status,
    agentId: filter.agent_id,
    batchId: filter.batch_id,
    scheduleId: filter.schedule_id,
    createdAfter: timeFilter(filter.created_after, 'filter.created_after'),
    createdBefore: timeFilter(filter.created_before, 'filter.created_before'),
    metadata: Object.entries(filter.metadata ?? {}),
  };
}
