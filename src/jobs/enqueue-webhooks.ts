import type { ObserverEvent } from '@agentjobs/sdk/protocol';
import { iso } from '../domain/time.js';
import { newId } from '../domain/ids.js';
import type { JobRow, StoredObserver } from '../store/rows.js';
import { insertMessage } from '../store/repo/outbox-repo.js';
import type { Tx } from '../store/store.js';
import { loadJobJson } from './render-job.js';

/**
 * Writes the webhook messages a transition owes — to every matching observer of the job and of each of its
 * ancestors — into the outbox, in the transaction of the transition itself: a transition without its
 * messages, or a message without its transition, cannot exist. `event` is the job's new status, or
 * `input_required` when the job starts waiting for a person (observers that asked for it hear that too).
 */
export async function enqueueWebhooks(tx: Tx, job: JobRow, event: ObserverEvent = job.status as ObserverEvent): Promise<void> {
  if (job.observers === '[]') return;
  const targets = (JSON.parse(job.observers) as StoredObserver[]).filter((o) => o.events.includes(event));
  if (targets.length === 0) return;
  const jobJson = await loadJobJson(tx, job);
  const head = `{"type":"job.${event}","timestamp":"${iso(tx.now)}","data":{"job":${jobJson},"observer_job_id":`;
  for (const observer of targets) {
    await queueMessage(tx, {
      tenantId: job.tenant_id,
      jobId: job.id,
      observerJobId: observer.job_id,
      url: observer.url,
      secret: observer.secret,
      type: `job.${event}`,
      sequence: job.transition_seq,
      body: `${head}"${observer.job_id}","sequence":${job.transition_seq}}}`,
    });
  }
}

/** A webhook message as a use case owes it; the outbox fills in the rest. */
export interface OwedMessage {
  tenantId: string;
  /** The job (or batch) the message is about, and the one its observer was registered on. */
  jobId: string;
  observerJobId: string;
  url: string;
  secret: string | null;
  type: string;
  sequence: number;
  body: string;
}

/** Writes one webhook message into the outbox, due now, and wakes the delivery loop of its endpoint. */
export async function queueMessage(tx: Tx, message: OwedMessage): Promise<void> {
  const endpoint = new URL(message.url).origin;
  await insertMessage(tx, {
    id: newId('message', tx.now),
    tenant_id: message.tenantId,
    job_id: message.jobId,
    observer_job_id: message.observerJobId,
    url: message.url,
    endpoint,
    secret: message.secret,
    type: message.type,
    sequence: message.sequence,
    body: message.body,
    status: 'pending',
    attempts: 0,
    next_attempt_at: tx.now,
    created_at: tx.now,
    delivered_at: null,
  });
  tx.notify('outbox', endpoint);
}
