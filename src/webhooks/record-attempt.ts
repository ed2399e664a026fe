import { newId } from '../domain/ids.js';
import type { Millis } from '../domain/time.js';
import type { MessageRow } from '../store/rows.js';
import { disableObserver, insertAttempt, updateMessage } from '../store/repo/outbox-repo.js';
import type { Store } from '../store/store.js';
import type { SendResult } from './webhook-sender.js';

/**
 * Records one attempt of a message and decides what follows, in one write.
 * A 2xx delivers the message.
 * A 410 Gone fails it and stops its observer.
 * Any other failure makes it due again after the next delay of the schedule, with jitter.
 * Once the schedule is spent, the message is failed.
 */
export async function recordAttempt(
  store: Store,
  message: MessageRow,
  result: SendResult,
  attemptedAt: number,
  retrySchedule: readonly Millis[],
): Promise<void> {
  await store.write(async (tx) => {
    await insertAttempt(tx, {
      id: newId('delivery', tx.now),
      message_id: message.id,
      attempted_at: attemptedAt,
      status_code: result.statusCode,
      latency_ms: Math.round(result.latencyMs),
      outcome: result.outcome,
      error: result.error,
    });
    const attempts = message.attempts + 1;
    if (result.outcome === 'ok') {
      await updateMessage(tx, message.id, { status: 'delivered', attempts, delivered_at: tx.now, next_attempt_at: null });
    } else if (result.statusCode === 410) {
      await updateMessage(tx, message.id, { status: 'failed', attempts, next_attempt_at: null });
      await disableObserver(tx, message.observer_job_id, message.url);
    } else if (attempts > retrySchedule.length) {
      await updateMessage(tx, message.id, { status: 'failed', attempts, next_attempt_at: null });
    } else {
      const delay = retrySchedule[attempts - 1];
      await updateMessage(tx, message.id, { attempts, next_attempt_at: tx.now + jitter(delay) });
      tx.notify('outbox', message.endpoint);
    }
  });
}

/** ±20 % on every delay, so that retries of many messages do not arrive in lockstep. */
function jitter(delay: Millis): Millis {
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
