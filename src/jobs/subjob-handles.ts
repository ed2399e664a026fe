import { isTerminal } from '../domain/job-rules.js';
import { notFound } from '../domain/jobs-error.js';
import type { JobRow } from '../store/rows.js';
import { getJobById } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import type { JobsContext, Principal } from './context.js';
import { assertLease, lockLeasedJob, workersJob } from './lease.js';
import { loadJobJson } from './render-job.js';
import { requestCancel } from './cancel-job.js';
import { waitFor } from '../loops/wait-for.js';

/**
 * `POST /v1/jobs/{id}/subjobs/{child_id}/wait`: long-polls until a child of the caller's leased job is
 * finished (or the wait ends), woken by the child's events, and answers the child's job object. The parent's
 * lease is checked on every look, so a worker that lost its lease stops waiting too.
 */
export async function waitForSubjob(
  ctx: JobsContext,
  worker: Principal,
  parentId: string,
  childId: string,
  leaseToken: string,
  waitSeconds: number,
  signal: AbortSignal,
): Promise<string> {
  const first = await ctx.store.read((tx) => readChild(tx, worker, parentId, childId, leaseToken));
  if (isTerminal(first.child.status) || waitSeconds <= 0) return first.json;
  const done = await waitFor(ctx.store, 'tree', first.child.root_job_id, waitSeconds * 1000, [signal, ctx.shutdown], async () => {
    const look = await ctx.store.read((tx) => readChild(tx, worker, parentId, childId, leaseToken));
    return isTerminal(look.child.status) ? look.json : null;
  });
  return done ?? (await ctx.store.read((tx) => readChild(tx, worker, parentId, childId, leaseToken))).json;
}

/** `POST /v1/jobs/{id}/subjobs/{child_id}/cancel`: the parent's agent cancels one of its children. */
export async function cancelSubjob(ctx: JobsContext, worker: Principal, parentId: string, childId: string, leaseToken: string): Promise<string> {
  return ctx.store.write(async (tx) => {
    await lockLeasedJob(tx, worker, parentId, leaseToken);
    const child = await childOf(tx, parentId, childId, true);
    if (isTerminal(child.status)) return loadJobJson(tx, child);
    return loadJobJson(tx, await requestCancel(tx, child, 'parent_cancelled'));
  });
}

async function readChild(tx: Tx, worker: Principal, parentId: string, childId: string, leaseToken: string) {
  const parent = workersJob(await getJobById(tx, parentId), worker, parentId);
  assertLease(parent, leaseToken, tx.now);
  const child = await childOf(tx, parentId, childId, false);
  return { child, json: await loadJobJson(tx, child) };
}

async function childOf(tx: Tx, parentId: string, childId: string, lock: boolean): Promise<JobRow> {
  const child = await getJobById(tx, childId, lock);
  if (!child || child.parent_job_id !== parentId) throw notFound('job', childId);
  return child;
}
