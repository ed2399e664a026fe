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
    const endpoint = new URL(observer.url).origin;
    await insertMessage(tx, {
      id: newId('message', tx.now),
      tenant_id: job.tenant_id,
      job_id: job.id,
      observer_job_id: observer.job_id,
      url: observer.url,
      endpoint,
      secret: observer.secret,
      type: `job.${event}`,
      sequence: job.transition_seq,
      body: `${head}"${observer.job_id}","sequence":${job.transition_seq}}}`,
      status: 'pending',
      attempts: 0,
      next_attempt_at: tx.now,
      created_at: tx.now,
      delivered_at: null,
    });
    tx.notify('outbox', endpoint);
  }
}
