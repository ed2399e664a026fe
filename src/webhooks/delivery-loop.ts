import type { Logger } from 'pino';
import { BoundedMap } from '../domain/bounded-map.js';
import type { Millis } from '../domain/time.js';
import type { MessageRow } from '../store/rows.js';
import { claimDueMessages, nextMessageDueAt, type ClaimedMessage } from '../store/repo/outbox-repo.js';
import type { Store } from '../store/store.js';
import { startBackgroundLoop, type BackgroundLoop } from '../loops/background-loop.js';
import type { Resolver } from './address-guard.js';
import { claimLockMs, EndpointPool } from './endpoint-pool.js';
import { recordAttempt } from './record-attempt.js';
import { webhookHeaders } from './signing.js';
import { TenantSecrets } from './signing-secrets.js';
import { createWebhookSender, type SendResult } from './webhook-sender.js';

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
/** Observers this process saw answer 410 Gone, remembered so that their messages already claimed are not sent. */
const GONE_REMEMBERED = 10_000;

/**
 * Delivers the outbox.
 * Each look claims due messages, locking them so that no other loop, in this or another process, sends them too.
 * The endpoint pool sends them with a limit per endpoint (see `EndpointPool`).
 * Each attempt is signed with Standard Webhooks headers, and recorded by `recordAttempt`.
 * An endpoint's slot is free as soon as its answer is in: the attempt is recorded beside the next send.
 * The message stays claimed until it is recorded.
 */
export function startDeliveryLoop(options: DeliveryLoopOptions): { stop(): Promise<void> } {
  const { store, log } = options;
  const lockMs = claimLockMs(options.timeoutMs);
  const sender = createWebhookSender({
    allowPrivate: options.allowPrivate,
    timeoutMs: options.timeoutMs,
    connectionsPerOrigin: options.perEndpoint ?? 10,
    resolver: options.resolver,
  });
  const secrets = new TenantSecrets(store);
  const recording = new Set<Promise<void>>();
  const gone = new BoundedMap<string, true>(GONE_REMEMBERED);
  const observerKey = (message: MessageRow) => `${message.observer_job_id} ${message.url}`;
  let loop: BackgroundLoop | null = null;

  /** Sends one message (or decides not to) and starts recording the attempt; resolves once the answer is in. */
  const send = async (message: ClaimedMessage) => {
    const now = Date.now();
    let result: SendResult;
    if (message.observer_disabled || gone.has(observerKey(message))) {
      result = { outcome: 'http_status', statusCode: 410, latencyMs: 0, error: 'not sent: this observer answered 410 Gone before' };
    } else {
      const timestamp = Math.floor(now / 1000);
      const headers = webhookHeaders({ secrets: await secrets.for(message, now), msgId: message.id, timestamp, body: message.body });
      result = await sender.send({ url: message.url, headers: { ...headers }, body: message.body });
      if (result.statusCode === 410) gone.set(observerKey(message), true);
    }
    options.onAttempt?.(result);
    const recorded = recordAttempt(store, message, result, now, options.retrySchedule).catch((error: unknown) => {
      // The claim lapses and the message is sent again: at least once, never lost.
      log.error({ err: error, message_id: message.id }, 'could not record a webhook attempt');
    });
    recording.add(recorded);
    void recorded.finally(() => recording.delete(recorded));
  };
  const pool = new EndpointPool({ perEndpoint: options.perEndpoint ?? 10, maxInFlight: options.maxInFlight ?? 256, send, poke: () => loop?.poke() });

  /** One look at the outbox; resolves to how long to sleep before the next. */
  const step = async (): Promise<number> => {
    if (pool.freeSlots <= 0) return MAX_SLEEP_MS; // a finishing send pokes the loop
    const skip = pool.full();
    const { messages, more } = await store.write((tx) => claimDueMessages(tx, Math.min(CLAIM_BATCH, pool.freeSlots), lockMs, pool.room, skip));
    pool.add(messages);
    // Look again at once only if the look was too short to see every due message. The rest belong to endpoints
    // at their limit, and a freed slot pokes the loop. Otherwise sleep until the next message is due (never a
    // busy spin).
    if (more && messages.length > 0) return 0;
    const next = await store.read(nextMessageDueAt);
    if (next == null) return MAX_SLEEP_MS;
    const wait = next - (await store.now());
    return wait <= 0 && pool.full().length > 0 ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(10, wait));
  };
  loop = startBackgroundLoop({
    name: 'webhook delivery',
    store,
    log,
    channels: ['outbox'],
    // A new message for an endpoint at its limit waits for a slot, and a freed slot pokes the loop: looking at
    // the outbox now would find nothing to take.
    wakesFor: (_channel, endpoint) => !pool.isFull(endpoint),
    retryMs: MAX_SLEEP_MS,
    step,
  });

  return {
    stop: async () => {
      pool.stop();
      secrets.close();
      await loop!.stop();
      // In-flight sends finish (each bounded by the timeout); queued ones are due again when their claim lapses.
      await sender.close();
      while (recording.size > 0) await Promise.all(recording);
    },
  };
}
