import type { Logger } from 'pino';
import { newId } from '../domain/ids.js';
import type { Millis } from '../domain/time.js';
import type { MessageRow, TenantRow } from '../store/rows.js';
import { getTenant } from '../store/repo/auth-repo.js';
import {
  claimDueMessages,
  disableObserver,
  insertAttempt,
  isObserverDisabled,
  nextMessageDueAt,
  releaseMessages,
  updateMessage,
} from '../store/repo/outbox-repo.js';
import type { Store } from '../store/store.js';
import { signingSecrets } from '../jobs/tenants.js';
import { createWebhookSender, type Resolver, type SendResult } from './address-guard.js';
import { webhookHeaders } from './signing.js';

/** Options of the webhook delivery loop. */
export interface DeliveryLoopOptions {
  store: Store;
  log: Logger;
  allowPrivate: boolean;
  /** Timeout of one POST. */
  timeoutMs: Millis;
  /** Delays between retries; after the last one fails the message is `failed`. */
  retrySchedule: readonly Millis[];
  /** POSTs in flight to one endpoint at once. @default 10 */
  perEndpoint?: number;
  /** POSTs in flight in all. @default 256 */
  maxInFlight?: number;
  /** How host names are resolved. @default the system resolver */
  resolver?: Resolver;
  /** Told of every attempt once it is decided, before it is recorded (metrics count them by outcome). Must not throw. */
  onAttempt?: (result: SendResult) => void;
}

/** Longest sleep between looks at the outbox: bounds how late a message written by another process is seen. */
const MAX_SLEEP_MS = 1000;
const CLAIM_BATCH = 200;

/**
 * Delivers the outbox. Claims due messages (locking them so no other loop, in this or another process, sends
 * them at the same time), signs each attempt with Standard Webhooks headers, and sends them with at most
 * `perEndpoint` in flight per endpoint: an endpoint that hangs holds its own slots and nobody else's.
 * Endpoints already at their limit are left out of claims, so their backlog stays in the database.
 * Every attempt is recorded; failures are retried on the schedule, with jitter; 410 Gone stops the observer.
 */
export function startDeliveryLoop(options: DeliveryLoopOptions): { stop(): Promise<void> } {
  const { store, log } = options;
  const perEndpoint = options.perEndpoint ?? 10;
  const maxInFlight = options.maxInFlight ?? 256;
  // A claimed message stays locked long enough for its endpoint's queue to drain twice over; a loop that dies
  // leaves it to be claimed again after that.
  const lockMs = options.timeoutMs * 2 + 5000;
  const sender = createWebhookSender({
    allowPrivate: options.allowPrivate,
    timeoutMs: options.timeoutMs,
    connectionsPerOrigin: perEndpoint,
    resolver: options.resolver,
  });
  const endpoints = new Map<string, { inFlight: number; queue: MessageRow[] }>();
  const tenants = new Map<string, { row: TenantRow; at: number }>();
  let inFlight = 0;
  let stopped = false;
  let wake: (() => void) | null = null;
  const poke = () => wake?.();
  const unlisten = store.listen('outbox', poke);

  const saturated = () => [...endpoints].filter(([, e]) => e.inFlight + e.queue.length >= perEndpoint * 2).map(([k]) => k);

  const secretsFor = async (message: MessageRow, now: number): Promise<string[]> => {
    if (message.secret) return [message.secret];
    const cached = tenants.get(message.tenant_id);
    // The tenant's secrets change only on rotation; a short cache spares a read per message.
    const row = cached && now - cached.at < 5000 ? cached.row : await store.read((tx) => getTenant(tx, message.tenant_id));
    if (!row) return [];
    tenants.set(message.tenant_id, { row, at: now });
    return signingSecrets(row, now);
  };

  const record = async (message: MessageRow, result: SendResult, attemptedAt: number) => {
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
      } else if (attempts > options.retrySchedule.length) {
        await updateMessage(tx, message.id, { status: 'failed', attempts, next_attempt_at: null });
      } else {
        const delay = options.retrySchedule[attempts - 1];
        await updateMessage(tx, message.id, { attempts, next_attempt_at: tx.now + jitter(delay) });
        tx.notify('outbox', '');
      }
    });
  };

  const deliver = async (message: MessageRow) => {
    const now = Date.now();
    let result: SendResult;
    if (await store.read((tx) => isObserverDisabled(tx, message.observer_job_id, message.url))) {
      result = { outcome: 'http_status', statusCode: 410, latencyMs: 0, error: 'not sent: this observer answered 410 Gone before' };
    } else {
      const timestamp = Math.floor(now / 1000);
      const headers = webhookHeaders({ secrets: await secretsFor(message, now), msgId: message.id, timestamp, body: message.body });
      result = await sender.send({ url: message.url, headers: { ...headers }, body: message.body });
    }
    options.onAttempt?.(result);
    try {
      await record(message, result, now);
    } catch (error) {
      // The lock expires and the message is sent again: at least once, never lost.
      log.error({ err: error, message_id: message.id }, 'could not record a webhook attempt');
    }
  };

  const pump = (endpoint: string) => {
    const state = endpoints.get(endpoint)!;
    while (state.inFlight < perEndpoint && state.queue.length > 0 && !stopped) {
      const message = state.queue.shift()!;
      state.inFlight++;
      inFlight++;
      void deliver(message).finally(() => {
        state.inFlight--;
        inFlight--;
        if (state.inFlight === 0 && state.queue.length === 0) endpoints.delete(endpoint);
        else pump(endpoint);
        poke();
      });
    }
  };

  const done = (async () => {
    while (!stopped) {
      let delay = MAX_SLEEP_MS;
      try {
        if (inFlight < maxInFlight) {
          const skip = saturated();
          const rows = await store.write((tx) => claimDueMessages(tx, Math.min(CLAIM_BATCH, maxInFlight - inFlight), lockMs, skip));
          const overflow: string[] = [];
          for (const row of rows) {
            let state = endpoints.get(row.endpoint);
            if (!state) endpoints.set(row.endpoint, (state = { inFlight: 0, queue: [] }));
            if (state.inFlight + state.queue.length >= perEndpoint * 2) overflow.push(row.id);
            else state.queue.push(row);
          }
          if (overflow.length > 0) await store.write((tx) => releaseMessages(tx, overflow));
          for (const endpoint of new Set(rows.map((r) => r.endpoint))) if (endpoints.has(endpoint)) pump(endpoint);
          if (rows.length > overflow.length) continue;
          // Nothing could be claimed. Messages still due belong to endpoints at their limit: a freed slot pokes
          // the loop. Otherwise sleep until the next message is due (never a busy spin).
          const next = await store.read(nextMessageDueAt);
          if (next != null) delay = Math.min(MAX_SLEEP_MS, Math.max(10, next - (await store.now())));
          if (skip.length > 0 && next != null && next <= (await store.now())) delay = MAX_SLEEP_MS;
        }
      } catch (error) {
        if (!stopped) log.error({ err: error }, 'webhook delivery loop failed; retrying');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      wake?.();
      unlisten();
      await done;
      // In-flight sends finish (each bounded by the timeout); queued ones keep their lock and are sent after it.
      await sender.close();
    },
  };
}

/** ±20 % on every delay, so that retries of many messages do not arrive in lockstep. */
function jitter(delay: Millis): Millis {
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
