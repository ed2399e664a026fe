import type { HeartbeatRequest } from '@agentjobs/sdk/protocol';
import { iso } from '../domain/time.js';
import { getJobById, updateJob } from '../store/repo/jobs-repo.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { lockLeasedJob } from './lease.js';
import { enforceBudgets, recordTokens } from './record-tokens.js';
import { timerAt } from '../domain/job-rules.js';
import type { JobMessage } from '@agentjobs/sdk/protocol';
import { listJobMessages } from '../store/repo/job-messages-repo.js';
import { renderJobMessage } from './render-job-message.js';

/** The answer to a heartbeat. */
export interface HeartbeatAnswer {
  lease: { expires_at: string };
  cancel_requested: boolean;
  /** Messages sent to the job that this lease has not been handed yet, oldest first. */
  messages: JobMessage[];
}

/**
 * `POST /v1/jobs/{id}/heartbeat`: extends the lease, records progress and tokens, tells the worker whether
 * a cancel was requested (that is how cancellation reaches a running agent), and hands it the messages sent to
 * the job since its claim or its last heartbeat (SPEC §9.2).
 */
export async function heartbeatJob(ctx: JobsContext, worker: Principal, jobId: string, input: HeartbeatRequest): Promise<HeartbeatAnswer> {
  return ctx.store.write(async (tx) => {
    const job = await lockLeasedJob(tx, worker, jobId, input.lease_token);
    const report = await recordTokens(tx, job, input.tokens_used);
    if (await enforceBudgets(tx, report)) {
      // This job crossed its budget and is failed now: its lease is gone with it.
      return { lease: { expires_at: iso(tx.now) }, cancel_requested: true, messages: [] };
    }
    // Failing an over-budget ancestor may have requested this job's cancellation: read it again.
    const current = report.overBudget.length > 0 ? (await getJobById(tx, jobId))! : report.job;
    const expiresAt = tx.now + (current.lease_ms ?? ctx.leaseMs);
    const patch: Parameters<typeof updateJob>[2] = { lease_expires_at: expiresAt };
    if (input.progress) {
      const progress = {
        percent: input.progress.percent ?? null,
        message: input.progress.message ?? null,
        updated_at: iso(tx.now),
      };
      patch.progress = JSON.stringify(progress);
      await appendEvent(tx, current, 'job.progress', { percent: progress.percent, message: progress.message });
    }
    let messages: JobMessage[] = [];
    if (current.message_count > current.messages_handed) {
      const rows = await listJobMessages(tx, jobId, current.messages_handed, current.message_count - current.messages_handed);
      messages = rows.map((row) => JSON.parse(renderJobMessage(row)) as JobMessage);
      patch.messages_handed = current.message_count;
    }
    patch.timer_at = timerAt({ ...current, lease_expires_at: expiresAt }, tx.now);
    await updateJob(tx, jobId, patch);
    return { lease: { expires_at: iso(expiresAt) }, cancel_requested: current.cancel_requested_at != null, messages };
  });
}
