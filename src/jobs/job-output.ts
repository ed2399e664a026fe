import type { OutputRequest } from '@agentjobs/sdk/protocol';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { byteLength } from '../domain/json.js';
import { listJobEventsOfType } from '../store/repo/events-repo.js';
import { getJob, updateJob } from '../store/repo/jobs-repo.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { lockLeasedJob } from './lease.js';

/** Output deltas read per query while assembling a job's output. */
const PAGE = 1000;

/**
 * `POST /v1/jobs/{id}/output`: a piece of the job's output text (SPEC §9.3). Each delta is a `job.output` event,
 * so event streams carry it live and resume after `Last-Event-ID` without a gap; it is never sent to webhooks.
 */
export async function recordOutput(ctx: JobsContext, worker: Principal, jobId: string, input: OutputRequest): Promise<string> {
  const size = byteLength(input.delta);
  return ctx.store.write(async (tx) => {
    const job = await lockLeasedJob(tx, worker, jobId, input.lease_token);
    if (job.output_bytes + size > ctx.limits.outputBytes) {
      throw new JobsError(
        'payload_too_large',
        `This delta of ${size} bytes would take job ${jobId}'s output past its limit of ${ctx.limits.outputBytes} bytes (all streams together); store long output as an artifact.`,
      );
    }
    await updateJob(tx, job.id, { output_bytes: job.output_bytes + size });
    const eventId = await appendEvent(tx, job, 'job.output', { stream: input.stream ?? 'default', delta: input.delta });
    return `{"event_id":"${eventId}"}`;
  });
}

/** `GET /v1/jobs/{id}/output`: the whole text of each of the job's output streams so far. */
export async function getOutputJson(ctx: JobsContext, principal: Principal, jobId: string): Promise<string> {
  return ctx.store.read(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId);
    if (!job) throw notFound('job', jobId);
    const streams: Record<string, string[]> = {};
    if (job.output_bytes > 0) {
      for (let after = 0; ; ) {
        const rows = await listJobEventsOfType(tx, job.root_job_id, job.id, 'job.output', after, PAGE);
        for (const row of rows) {
          const { stream, delta } = JSON.parse(row.data) as { stream: string; delta: string };
          (streams[stream] ??= []).push(delta);
        }
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1].sequence;
      }
    }
    const joined = Object.fromEntries(Object.entries(streams).map(([name, parts]) => [name, parts.join('')]));
    return JSON.stringify({ streams: joined });
  });
}
