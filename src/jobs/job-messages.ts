import type { SendMessageRequest } from '@agentjobs/sdk/protocol';
import { isTerminal } from '../domain/job-rules.js';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { newId } from '../domain/ids.js';
import { byteLength } from '../domain/json.js';
import type { JobMessageRow } from '../store/rows.js';
import { getJobMessage, insertJobMessage, listJobMessages } from '../store/repo/job-messages-repo.js';
import { getJob, updateJob } from '../store/repo/jobs-repo.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { renderJobMessage } from './render-job-message.js';

/**
 * `POST /v1/jobs/{id}/messages`: a client talks to a job that has not ended (SPEC §9.2). The message is numbered
 * under the job's row lock, so workers are handed messages in commit order: a claim hands all of them, each
 * heartbeat the ones its lease has not had. A message to a job waiting for input does not answer it.
 */
export async function sendMessage(
  ctx: JobsContext,
  principal: Principal,
  jobId: string,
  body: SendMessageRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  const content = JSON.stringify(body.content);
  const size = byteLength(content);
  if (size > ctx.limits.messageBytes) {
    throw new JobsError('payload_too_large', `content is ${size} bytes; the limit is ${ctx.limits.messageBytes} bytes. Send a shorter message, or a reference.`);
  }
  return ctx.store.write((tx) =>
    idempotent(tx, principal.tenantId, idempotencyKey ? { key: idempotencyKey, scope: `messages:${jobId}`, body } : null, async () => {
      const job = await getJob(tx, principal.tenantId, jobId, true);
      if (!job) throw notFound('job', jobId);
      if (isTerminal(job.status)) {
        throw new JobsError('job_already_finished', `Job ${jobId} already ${job.status}; messages reach only jobs that have not ended.`);
      }
      if (job.message_count >= ctx.limits.messagesPerJob) {
        throw new JobsError('message_limit_reached', `Job ${jobId} has been sent ${job.message_count} messages, the most one job takes.`);
      }
      const row: JobMessageRow = {
        job_id: job.id,
        seq: job.message_count + 1,
        id: newId('jobMessage', tx.now),
        tenant_id: job.tenant_id,
        content,
        created_at: tx.now,
      };
      await insertJobMessage(tx, row);
      await updateJob(tx, job.id, { message_count: row.seq });
      await appendEvent(tx, job, 'job.message', { message_id: row.id, content: body.content });
      return { status: 201, body: renderJobMessage(row) };
    }),
  );
}

/** `GET /v1/jobs/{id}/messages`: the messages sent to a job, oldest first (a conversation reads that way). */
export async function listMessagesJson(ctx: JobsContext, principal: Principal, jobId: string, query: { limit?: number; cursor?: string }): Promise<string> {
  const limit = query.limit ?? 20;
  const afterId = decodeCursor(query.cursor, 'jobMessage');
  return ctx.store.read(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId);
    if (!job) throw notFound('job', jobId);
    let afterSeq = 0;
    if (afterId) {
      const last = await getJobMessage(tx, job.id, afterId);
      if (!last) throw new JobsError('invalid_cursor', 'cursor is not valid for this job: pass the next_cursor of the previous page unchanged.');
      afterSeq = last.seq;
    }
    const rows = await listJobMessages(tx, job.id, afterSeq, limit + 1);
    const shown = rows.slice(0, limit);
    const next = rows.length > limit ? JSON.stringify(encodeCursor(shown[shown.length - 1].id)) : 'null';
    return `{"data":[${shown.map(renderJobMessage).join(',')}],"next_cursor":${next}}`;
  });
}
