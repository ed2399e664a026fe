import type { ClaimRequest } from '@agentjobs/sdk/protocol';
import { deadlineOnStart } from '../domain/job-rules.js';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { newToken, TOKEN_PREFIX } from '../domain/secrets.js';
import { getAgent, touchWorker } from '../store/repo/agents-repo.js';
import { countLeasedJobs, hasReadyJob, selectClaimable } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { waitFor } from '../loops/wait-for.js';
import type { JobsContext, Principal } from './context.js';
import { claimEntry, resumeJob, type LeasePatch } from './resume-job.js';
import { transition } from './transition.js';
import type { WorkerSightings } from './worker-sightings.js';

/** `{"jobs": [...]}` of a claim, as JSON text. */
export type ClaimResult = string;

/**
 * `POST /v1/agents/{id}/claim`: leases up to `max_jobs` ready jobs of the agent — queued ones, and running ones
 * a person has answered — in the order they became ready, within the agent's `max_concurrency` across all its
 * workers (which counts the jobs workers hold, not the ones waiting for a person). When none is ready it
 * long-polls: a job dispatched (or answered) while the worker waits is handed over at once, woken by that
 * commit rather than found by polling.
 */
export async function claimJobs(
  ctx: JobsContext,
  worker: Principal,
  agentId: string,
  input: ClaimRequest,
  signal: AbortSignal,
): Promise<ClaimResult> {
  if (worker.kind !== 'worker' || worker.agentId !== agentId) {
    // Within the token's tenant, say what is wrong; across tenants, the agent does not exist.
    const sameTenant = await ctx.store.read((tx) => getAgent(tx, worker.tenantId, agentId));
    if (!sameTenant) throw notFound('agent', agentId);
    throw new JobsError('forbidden', `This worker token belongs to another agent; claim with a worker token of ${agentId}.`);
  }
  const maxJobs = input.max_jobs ?? 1;
  const leaseMs = (input.lease_seconds ?? 0) * 1000 || ctx.leaseMs;
  const workerId = input.worker_id ?? null;
  const waitMs = Math.round((input.wait_seconds ?? 0) * 1000);
  const claim = async (tx: Tx) => {
    const jobs = await claimOnce(tx, ctx.workersSeen, worker.tenantId, agentId, maxJobs, leaseMs, workerId);
    return jobs.length > 0 ? jobs : null;
  };
  const claimed = await waitFor(
    ctx.store,
    'agent',
    agentId,
    waitMs,
    [signal, ctx.shutdown],
    async () => {
      if (ctx.shutdown.aborted) return null;
      // Look before taking the agent's lock in a write: a wake-up wakes every worker waiting for the agent, in
      // every process, and one of them gets the job; the others go back to waiting without queueing behind it,
      // and a claim that finds nothing costs no commit. (It still writes when the worker is due to be recorded
      // as seen.)
      if (!(await ctx.store.read((tx) => hasReadyJob(tx, agentId))) && !(workerId && ctx.workersSeen.isDue(agentId, workerId))) return null;
      return ctx.store.write(claim);
    },
    // On SQLite, a waiting worker's claim runs in the dispatch's own transaction: the job reaches it one commit
    // sooner.
    claim,
  );
  return `{"jobs":[${(claimed ?? []).join(',')}]}`;
}

async function claimOnce(
  tx: Tx,
  workersSeen: WorkerSightings,
  tenantId: string,
  agentId: string,
  maxJobs: number,
  leaseMs: number,
  workerId: string | null,
): Promise<string[]> {
  // Locking the agent row (PostgreSQL) serialises the claims of one agent — and its update and deletion — so
  // the count of the jobs its workers hold, read below, is exact: only a claim gives a worker a job.
  const agent = await getAgent(tx, tenantId, agentId, true);
  if (!agent) throw notFound('agent', agentId);
  if (workerId && workersSeen.record(agentId, workerId, tx.now)) await touchWorker(tx, agentId, workerId);
  const room = agent.max_concurrency == null ? maxJobs : Math.min(maxJobs, agent.max_concurrency - (await countLeasedJobs(tx, agentId)));
  if (room <= 0) return [];
  const rows = await selectClaimable(tx, agentId, room);
  const claimed: string[] = [];
  for (const row of rows) {
    const token = newToken(TOKEN_PREFIX.lease, 18);
    const expiresAt = tx.now + leaseMs;
    const lease: LeasePatch = { lease_token: token, lease_expires_at: expiresAt, lease_ms: leaseMs, worker_id: workerId };
    // A running job is ready again because a person answered it: it resumes under a new lease, no transition.
    const leased =
      row.status === 'running'
        ? await resumeJob(tx, row, lease)
        : await transition(tx, row, {
            to: 'running',
            patch: {
              ...lease,
              started_at: row.started_at ?? tx.now,
              deadline_at: row.started_at == null ? deadlineOnStart(row.deadline_at, row.max_duration_ms, tx.now) : row.deadline_at,
              ...(row.message_count > row.messages_handed ? { messages_handed: row.message_count } : {}),
            },
          });
    claimed.push(await claimEntry(tx, leased, token, expiresAt));
  }
  return claimed;
}
