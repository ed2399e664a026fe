import { JobsError } from '../domain/jobs-error.js';
import { parseIso } from '../domain/time.js';
import { type ListJobsQuery, metadataFilters } from '@agentjobs/sdk/protocol';
import { listJobs, listTreeNodes, type JobFilters } from '../store/repo/jobs-repo.js';
import type { JobNodeRow } from '../store/rows.js';
import type { JobsContext, Principal } from './context.js';
import { decodeCursor, pageJson } from './cursor.js';
import { renderJob } from './render-job.js';

/** `GET /v1/jobs`: a page of the tenant's jobs, newest first, with filters. */
export async function listJobsJson(ctx: JobsContext, principal: Principal, query: ListJobsQuery): Promise<string> {
  const limit = query.limit ?? 20;
  const filters: JobFilters = {
    status: query.status,
    agentId: query.agent_id,
    parentJobId: query.parent_job_id,
    rootJobId: query.root_job_id,
    batchId: query.batch_id,
    scheduleId: query.schedule_id,
    createdAfter: timeFilter(query.created_after, 'created_after'),
    createdBefore: timeFilter(query.created_before, 'created_before'),
    waiting: query.waiting,
    metadata: metadataFilters(query),
  };
  const before = decodeCursor(query.cursor, 'job');
  return ctx.store.read(async (tx) => {
    const rows = await listJobs(tx, principal.tenantId, filters, limit + 1, before);
    // Jobs of one tree share one read of that tree.
    const trees = new Map<string, JobNodeRow[]>();
    for (const row of rows.slice(0, limit)) {
      if (row.child_count > 0 && !trees.has(row.root_job_id)) trees.set(row.root_job_id, await listTreeNodes(tx, row.root_job_id));
    }
    return pageJson(rows, limit, (row) => renderJob(row, trees.get(row.root_job_id)));
  });
}

/** A time filter of a list or a bulk action, or 400 naming `field`. */
export function timeFilter(value: string | undefined, field: string): number | undefined {
  if (value == null) return undefined;
  const ms = parseIso(value);
  if (ms == null) throw new JobsError('invalid_request', `${field} must be an RFC 3339 timestamp, e.g. 2026-03-19T12:00:00Z.`);
  return ms;
}
