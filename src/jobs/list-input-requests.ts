import type { InputRequestStatus } from '@agentjobs/sdk/protocol';
import { notFound } from '../domain/jobs-error.js';
import { listTreeInputRequests } from '../store/repo/input-requests-repo.js';
import { getJob, listTreeNodes } from '../store/repo/jobs-repo.js';
import type { JobsContext, Principal } from './context.js';
import { decodeCursor, pageJson } from './cursor.js';
import { subtreeIds } from './job-events.js';
import { renderInputRequest } from './render-input-request.js';

/** The query of `GET /v1/jobs/{id}/input-requests`. */
export interface ListInputRequestsInput {
  limit?: number;
  cursor?: string;
  include?: 'subjobs';
  status?: InputRequestStatus;
}

/**
 * `GET /v1/jobs/{id}/input-requests`: the inbox of one job or, with `include=subjobs`, of its whole subtree —
 * one place to see every question a tree of agents is asking. Oldest first (an inbox is answered in order);
 * `status=pending` leaves the open ones.
 */
export async function listInputRequestsJson(ctx: JobsContext, principal: Principal, jobId: string, query: ListInputRequestsInput): Promise<string> {
  const limit = query.limit ?? 20;
  const after = decodeCursor(query.cursor, 'inputRequest');
  return ctx.store.read(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId);
    if (!job) throw notFound('job', jobId);
    let jobIds: string[] | null = [job.id];
    if (query.include === 'subjobs' && job.child_count > 0) {
      // A root's subtree is its whole tree: no list of ids needed.
      jobIds = job.parent_job_id == null ? null : subtreeIds(job.id, await listTreeNodes(tx, job.root_job_id));
    }
    const rows = await listTreeInputRequests(tx, { rootJobId: job.root_job_id, jobIds, status: query.status }, limit + 1, after);
    return pageJson(rows, limit, renderInputRequest);
  });
}
