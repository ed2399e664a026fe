import type { EventType } from '@agentjobs/sdk/protocol';
import { newId } from '../domain/ids.js';
import type { JobRow } from '../store/rows.js';
import { insertEvent } from '../store/repo/events-repo.js';
import { nextTreeSequence } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';

/**
 * Appends an event to a job's log. Its sequence comes from the counter on the root row of the tree, taken
 * under that row's lock: sequences of one tree are unique and increase in commit order, so `?after=` and
 * `Last-Event-ID` can never skip an event that committed late.
 */
export async function appendEvent(
  tx: Tx,
  job: Pick<JobRow, 'id' | 'tenant_id' | 'root_job_id'>,
  type: EventType,
  data: Record<string, unknown>,
  /** The sequence, when the caller already holds it (a new root's first event is 1). */
  knownSequence?: number,
): Promise<string> {
  const sequence = knownSequence ?? (await nextTreeSequence(tx, job.root_job_id));
  const id = newId('event', tx.now);
  await insertEvent(tx, {
    id,
    tenant_id: job.tenant_id,
    job_id: job.id,
    root_job_id: job.root_job_id,
    sequence,
    type,
    data: JSON.stringify(data),
    created_at: tx.now,
  });
  tx.notify('tree', job.root_job_id);
  return id;
}
