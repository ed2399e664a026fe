import { notFound } from '../domain/jobs-error.js';
import { iso } from '../domain/time.js';
import type { AttemptRow, MessageRow } from '../store/rows.js';
import { getJob } from '../store/repo/jobs-repo.js';
import { getMessage, listAttempts, listMessagesForJob, updateMessage } from '../store/repo/outbox-repo.js';
import type { JobsContext, Principal } from './context.js';
import { decodeCursor, pageJson } from './cursor.js';

/** `GET /v1/jobs/{id}/deliveries`: webhook messages about the job or to its observers, with every attempt. */
export async function listDeliveriesJson(
  ctx: JobsContext,
  principal: Principal,
  jobId: string,
  query: { limit?: number; cursor?: string },
): Promise<string> {
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, 'message');
  return ctx.store.read(async (tx) => {
    if (!(await getJob(tx, principal.tenantId, jobId))) throw notFound('job', jobId);
    const messages = await listMessagesForJob(tx, principal.tenantId, jobId, limit + 1, before);
    const attempts = await listAttempts(tx, messages.slice(0, limit).map((m) => m.id));
    return pageJson(messages, limit, (m) => JSON.stringify(messageView(m, attempts)));
  });
}

/** `POST /v1/deliveries/{msg_id}/retry`: sends a message again now, whatever became of it before. */
export async function retryDelivery(ctx: JobsContext, principal: Principal, messageId: string): Promise<string> {
  return ctx.store.write(async (tx) => {
    const message = await getMessage(tx, principal.tenantId, messageId, true);
    if (!message) throw notFound('message', messageId);
    const patch = { status: 'pending' as const, next_attempt_at: tx.now };
    await updateMessage(tx, message.id, patch);
    tx.notify('outbox', message.endpoint);
    return JSON.stringify({ id: message.id, status: 'pending', next_attempt_at: iso(tx.now) });
  });
}

/** A message as the API shows it: never its body's secret, never a response body. */
export function messageView(message: MessageRow, attempts: AttemptRow[]) {
  return {
    id: message.id,
    job_id: message.job_id,
    observer_job_id: message.observer_job_id,
    url: message.url,
    type: message.type,
    sequence: message.sequence,
    status: message.status,
    attempts: attempts
      .filter((a) => a.message_id === message.id)
      .map((a) => ({
        id: a.id,
        attempted_at: iso(a.attempted_at),
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        outcome: a.outcome,
        error: a.error,
      })),
    next_attempt_at: message.status === 'pending' ? iso(message.next_attempt_at) : null,
    created_at: iso(message.created_at),
    delivered_at: iso(message.delivered_at),
  };
}
