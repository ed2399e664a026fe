import type { Logger } from 'pino';
import { BoundedMap } from '../domain/bounded-map.js';
import { newId } from '../domain/ids.js';
import type { Millis } from '../domain/time.js';
import type { MessageRow, TenantRow } from '../store/rows.js';
import { getTenant } from '../store/repo/auth-repo.js';
import {
  claimDueMessages,
  disableObserver,
  insertAttempt,
  nextMessageDueAt,
  updateMessage,
  type ClaimedMessage,
} from '../store/repo/outbox-repo.js';
import type { Store } from '../store/store.js';
import { signingSecrets } from '../jobs/tenants.js';
import { createWebhookSender, type Resolver, type SendResult } from './address-guard.js';
import { webhookHeaders } from './signing.js';
import { startBackgroundLoop, type BackgroundLoop } from '../jobs/background-loop.js';

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
/** An endpoint keeps up to this many times its limit in hand (in flight and queued), see `room`. */
const HAND = 4;
/** How long a tenant's signing secrets are kept in memory at most (a rotation drops them at once). */
const TENANT_CACHE_MS = 5000;
/** Observers this process saw answer 410 Gone, remembered so that their messages already claimed are not sent. */
const GONE_REMEMBERED = 10_000;

/**
 * Delivers the outbox. Claims due messages (locking them so no other loop, in this or another process, sends
 * them at the same time), signs each attempt with Standard Webhooks headers, and sends them with at most
 * `perEndpoint` in flight per endpoint: an endpoint that hangs holds its own slots and nobody else's.
 * Endpoints already at their limit are left out of claims, so their backlog stays in the database.
 * Every attempt is recorded; failures are retried on the schedule, with jitter; 410 Gone stops the observer.
 * An endpoint's slot is free again as soon as its answer is in: recording the attempt (a commit) happens
 * beside the next send, while the message stays claimed until it is recorded.
 */
export function startDeliveryLoop(options: DeliveryLoopOptions): { stop(): Promise<void> } {
  const { store, log } = options;
  const perEndpoint = options.perEndpoint ?? 10;
  const maxInFlight = options.maxInFlight ?? 256;
  // A claimed message stays locked long enough for its endpoint's hand to drain, one timeout per limit's worth;
  // a loop that dies leaves it to be claimed again after that.
  const lockMs = options.timeoutMs * HAND + 5000;
  const sender = createWebhookSender({
    allowPrivate: options.allowPrivate,
    timeoutMs: options.timeoutMs,
    connectionsPerOrigin: perEndpoint,
    resolver: options.resolver,
  });
  const endpoints = new Map<string, { inFlight: number; queue: ClaimedMessage[] }>();
  const recording = new Set<Promise<void>>();
  const gone = new BoundedMap<string, true>(GONE_REMEMBERED);
  const observerKey = (message: MessageRow) => `${message.observer_job_id} ${message.url}`;
  const tenants = new Map<string, { row: TenantRow; at: number }>();
  // Bumped by every rotation heard: a read of a tenant that a rotation overtook is not kept.
  let secretsVersion = 0;
  const unlistenSecrets = store.listen('secrets', (tenantId) => {
    secretsVersion++;
    if (tenantId === '*') tenants.clear();
    else tenants.delete(tenantId);
  });
  let inFlight = 0;
  let stopped = false;
  let loop: BackgroundLoop | null = null;
  const poke = () => loop?.poke();

  // Each endpoint keeps up to HAND times its limit in hand (in flight and queued). It is full while more than its
  // limit is in hand, and refilled — in one claim of at least HAND - 1 times `perEndpoint` messages, not one claim
  // per finished send — once it no longer is: a look at the outbox (and the look past a full endpoint that
  // follows it) per thirty messages.
  const inHand = (endpoint: string) => {
    const state = endpoints.get(endpoint);
    return state ? state.inFlight + state.queue.length : 0;
  };
  const isFull = (endpoint: string) => inHand(endpoint) > perEndpoint;
  const room = (endpoint: string) => perEndpoint * HAND - inHand(endpoint);
  const full = () => [...endpoints.keys()].filter(isFull);

  const secretsFor = async (message: MessageRow, now: number): Promise<string[]> => {
    if (message.secret) return [message.secret];
    // The tenant's secrets change only on rotation, which drops this copy at once (a `secrets` wake-up, from any
    // process); the copy is read again after a few seconds all the same, should such a wake-up be missed.
    const cached = tenants.get(message.tenant_id);
    if (cached && now - cached.at < TENANT_CACHE_MS) return signingSecrets(cached.row, now);
    const version = secretsVersion;
    const row = await store.read((tx) => getTenant(tx, message.tenant_id));
    if (!row) return [];
    if (version === secretsVersion) tenants.set(message.tenant_id, { row, at: now });
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
        tx.notify('outbox', message.endpoint);
      }
    });
  };

  /** Sends one message (or decides not to) and starts recording the attempt; resolves once the answer is in. */
  const deliver = async (message: ClaimedMessage) => {
    const now = Date.now();
    let result: SendResult;
    if (message.observer_disabled || gone.has(observerKey(message))) {
      result = { outcome: 'http_status', statusCode: 410, latencyMs: 0, error: 'not sent: this observer answered 410 Gone before' };
    } else {
      const timestamp = Math.floor(now / 1000);
      const headers = webhookHeaders({ secrets: await secretsFor(message, now), msgId: message.id, timestamp, body: message.body });
      result = await sender.send({ url: message.url, headers: { ...headers }, body: message.body });
      if (result.statusCode === 410) gone.set(observerKey(message), true);
    }
    options.onAttempt?.(result);
    const recorded = record(message, result, now).catch((error: unknown) => {
      // The claim lapses and the message is sent again: at least once, never lost.
      log.error({ err: error, message_id: message.id }, 'could not record a webhook attempt');
    });
    recording.add(recorded);
    void recorded.finally(() => recording.delete(recorded));
  };

  const pump = (endpoint: string) => {
    const state = endpoints.get(endpoint)!;
    while (state.inFlight < perEndpoint && state.queue.length > 0 && !stopped) {
      const message = state.queue.shift()!;
      state.inFlight++;
      inFlight++;
      void deliver(message).finally(() => {
        const endpointWasFull = isFull(endpoint);
        const allWereBusy = inFlight >= maxInFlight;
        state.inFlight--;
        inFlight--;
        if (state.inFlight === 0 && state.queue.length === 0) endpoints.delete(endpoint);
        else pump(endpoint);
        // Look at the outbox again when this endpoint wants a refill, when it drained, or when a slot of the
        // overall limit came free — not after every send.
        const refill = endpointWasFull && !isFull(endpoint);
        if (refill || allWereBusy || !endpoints.has(endpoint)) poke();
      });
    }
  };

  /** One look at the outbox; resolves to how long to sleep before the next. */
  const step = async (): Promise<number> => {
    if (inFlight >= maxInFlight) return MAX_SLEEP_MS; // a finishing send pokes the loop
    const skip = full();
    const { messages: rows, more } = await store.write((tx) =>
      claimDueMessages(tx, Math.min(CLAIM_BATCH, maxInFlight - inFlight), lockMs, room, skip),
    );
    for (const row of rows) {
      let state = endpoints.get(row.endpoint);
      if (!state) endpoints.set(row.endpoint, (state = { inFlight: 0, queue: [] }));
      state.queue.push(row);
    }
    for (const endpoint of new Set(rows.map((r) => r.endpoint))) pump(endpoint);
    // Look again at once only if the look was too short to see every due message; the rest belong to endpoints
    // at their limit, and a freed slot pokes the loop. Otherwise sleep until the next message is due (never a
    // busy spin).
    if (more && rows.length > 0) return 0;
    const next = await store.read(nextMessageDueAt);
    if (next == null) return MAX_SLEEP_MS;
    const wait = next - (await store.now());
    return wait <= 0 && full().length > 0 ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(10, wait));
  };
  loop = startBackgroundLoop({
    name: 'webhook delivery',
    store,
    log,
    channels: ['outbox'],
    // A new message for an endpoint at its limit waits for a slot, and a freed slot pokes the loop: looking at
    // the outbox now would find nothing to take.
    wakesFor: (_channel, endpoint) => !isFull(endpoint),
    retryMs: MAX_SLEEP_MS,
    step,
  });

  return {
    stop: async () => {
      stopped = true;
      unlistenSecrets();
      await loop!.stop();
      // In-flight sends finish (each bounded by the timeout); queued ones are due again when their claim lapses.
      await sender.close();
      while (recording.size > 0) await Promise.all(recording);
    },
  };
}

/** ±20 % on every delay, so that retries of many messages do not arrive in lockstep. */
function jitter(delay: Millis): Millis {
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
