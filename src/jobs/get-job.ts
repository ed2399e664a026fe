import { notFound } from '../domain/jobs-error.js';
import { getJob } from '../store/repo/jobs-repo.js';
import type { JobsContext, Principal } from './context.js';
import { loadJobJson } from './render-job.js';

/** `GET /v1/jobs/{id}`: the job object with its whole subjob tree. */
export async function getJobJson(ctx: JobsContext, principal: Principal, jobId: string): Promise<string> {
  return ctx.store.read(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId);
    if (!job) throw notFound('job', jobId);
    return loadJobJson(tx, job);
  });
}
