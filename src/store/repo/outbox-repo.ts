import type { AttemptRow, MessageRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, limitSql, placeholders, updateRow } from './sql.js';

/** Writes a webhook message into the outbox (in the transaction of the transition it reports). */
export function insertMessage(tx: Tx, row: MessageRow): Promise<number> {
  return insertRow(tx, 'webhook_messages', row);
}

/** A message of this tenant. */
export function getMessage(tx: Tx, tenantId: string, id: string, lock = false): Promise<MessageRow | undefined> {
  return tx.get<MessageRow>(
    `SELECT * FROM webhook_messages WHERE id = ? AND tenant_id = ?${lock ? tx.dialect.forUpdate : ''}`,
    [id, tenantId],
  );
}

/** Changes the given columns of a message. */
export function updateMessage(tx: Tx, id: string, patch: Partial<MessageRow>): Promise<number> {
  return updateRow(tx, 'webhook_messages', id, patch);
}

/** A message claimed for sending, and whether its observer answered 410 Gone before (then it is not sent). */
export type ClaimedMessage = MessageRow & { observer_disabled: boolean | number };

/** What a claim took, and whether due messages beyond its look may be waiting (`limit` candidates were seen). */
export interface ClaimedMessages {
  messages: ClaimedMessage[];
  more: boolean;
}

/**
 * Takes due messages — at most `room(endpoint)` of each endpoint and `limit` in all, oldest due first, none of
 * the `skipEndpoints` — and moves their due time `lockMs` ahead, so that no other delivery loop (in this or
 * another process) sends them meanwhile. A loop that dies leaves them due again when that time comes.
 * Candidates are read narrow (id and endpoint, from the index alone) first: the ones left for later are neither
 * read whole nor written.
 */
export async function claimDueMessages(
  tx: Tx,
  limit: number,
  lockMs: number,
  room: (endpoint: string) => number,
  skipEndpoints: string[] = [],
): Promise<ClaimedMessages> {
  const skip = skipEndpoints.length > 0 ? ` AND endpoint NOT IN (${placeholders(skipEndpoints.length)})` : '';
  const candidates = await tx.all<{ id: string; endpoint: string }>(
    `SELECT id, endpoint FROM webhook_messages WHERE status = 'pending' AND next_attempt_at <= ?${skip}
      ORDER BY next_attempt_at ${limitSql(limit)}${tx.dialect.forUpdateSkipLocked}`,
    [tx.now, ...skipEndpoints],
  );
  const taken = new Map<string, number>();
  const ids: string[] = [];
  for (const { id, endpoint } of candidates) {
    const count = taken.get(endpoint) ?? 0;
    if (count >= room(endpoint)) continue;
    taken.set(endpoint, count + 1);
    ids.push(id);
  }
  const more = candidates.length === limit;
  if (ids.length === 0) return { messages: [], more };
  const rows = await tx.all<ClaimedMessage>(
    `SELECT m.*, EXISTS (SELECT 1 FROM disabled_observers d WHERE d.observer_job_id = m.observer_job_id AND d.url = m.url)
        AS observer_disabled
      FROM webhook_messages m WHERE m.id IN (${placeholders(ids.length)})`,
    ids,
  );
  await tx.run(`UPDATE webhook_messages SET next_attempt_at = ? WHERE id IN (${placeholders(ids.length)})`, [tx.now + lockMs, ...ids]);
  const order = new Map(ids.map((id, i) => [id, i]));
  return { messages: rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!), more };
}

/** Stops deliveries to an observer whose endpoint answered 410 Gone. */
export async function disableObserver(tx: Tx, observerJobId: string, url: string): Promise<void> {
  await tx.run(
    'INSERT INTO disabled_observers (observer_job_id, url, disabled_at) VALUES (?, ?, ?) ON CONFLICT (observer_job_id, url) DO NOTHING',
    [observerJobId, url, tx.now],
  );
}

/** The earliest moment a pending message is due, or null (one step down the partial index). */
export async function nextMessageDueAt(tx: Tx): Promise<number | null> {
  const row = await tx.get<{ t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM webhook_messages WHERE status = 'pending'");
  return row?.t ?? null;
}

/** Records one POST attempt. */
export function insertAttempt(tx: Tx, row: AttemptRow): Promise<number> {
  return insertRow(tx, 'delivery_attempts', row);
}

/** Messages about a job or sent to its observers, newest first. */
export function listMessagesForJob(tx: Tx, tenantId: string, jobId: string, limit: number, beforeId: string | null): Promise<MessageRow[]> {
  return tx.all<MessageRow>(
    `SELECT * FROM webhook_messages WHERE tenant_id = ? AND (job_id = ? OR observer_job_id = ?)${beforeId ? ' AND id < ?' : ''}
      ORDER BY id DESC ${limitSql(limit)}`,
    beforeId ? [tenantId, jobId, jobId, beforeId] : [tenantId, jobId, jobId],
  );
}

/** The attempts of some messages, oldest first. */
export function listAttempts(tx: Tx, messageIds: string[]): Promise<AttemptRow[]> {
  if (messageIds.length === 0) return Promise.resolve([]);
  return tx.all<AttemptRow>(
    `SELECT * FROM delivery_attempts WHERE message_id IN (${placeholders(messageIds.length)}) ORDER BY id`,
    messageIds,
  );
}
