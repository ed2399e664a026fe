import type { ClaimedMessage } from '../store/repo/outbox-repo.js';

/** An endpoint keeps up to this many times its limit in hand (in flight and queued), see `room`. */
const HAND = 4;

/**
 * How long a claimed message stays locked: long enough for its endpoint's hand to drain, one send's timeout per
 * limit's worth. A loop that dies leaves the message to be claimed again after that.
 */
export function claimLockMs(timeoutMs: number): number {
  return timeoutMs * HAND + 5000;
}

/** What a pool needs from the delivery loop. */
export interface EndpointPoolOptions {
  /** Sends in flight to one endpoint at once. */
  perEndpoint: number;
  /** Sends in flight in all. */
  maxInFlight: number;
  /** Sends one message; resolves once its endpoint's slot is free again. */
  send: (message: ClaimedMessage) => Promise<void>;
  /** Asks the loop to look at the outbox again: an endpoint wants a refill, or a slot came free. */
  poke: () => void;
}

interface Endpoint {
  inFlight: number;
  queue: ClaimedMessage[];
}

/**
 * The claimed messages this process holds, queued by endpoint, and their sends in flight.
 * An endpoint has at most `perEndpoint` sends in flight, so an endpoint that hangs holds its own slots and nobody else's.
 * Each endpoint keeps up to HAND times its limit in hand, and is full while more than its limit is in hand.
 * A full endpoint is left out of claims, so its backlog stays in the database.
 * It is refilled once it is no longer full, in one claim of at least HAND - 1 times its limit.
 * So the loop looks at the outbox once per thirty messages of an endpoint, not after every send.
 */
export class EndpointPool {
  private readonly endpoints = new Map<string, Endpoint>();
  private inFlight = 0;
  private stopped = false;

  constructor(private readonly options: EndpointPoolOptions) {}

  /** Sends that may start before the overall limit is reached. */
  get freeSlots(): number {
    return this.options.maxInFlight - this.inFlight;
  }

  /** Whether the endpoint has more than its limit in hand. */
  readonly isFull = (endpoint: string): boolean => this.inHand(endpoint) > this.options.perEndpoint;

  /** How many more messages of the endpoint a claim may take. */
  readonly room = (endpoint: string): number => this.options.perEndpoint * HAND - this.inHand(endpoint);

  /** The endpoints a claim must skip. */
  full(): string[] {
    return [...this.endpoints.keys()].filter(this.isFull);
  }

  /** Queues claimed messages by endpoint and starts what their endpoints have room for. */
  add(messages: ClaimedMessage[]): void {
    for (const message of messages) {
      let endpoint = this.endpoints.get(message.endpoint);
      if (!endpoint) this.endpoints.set(message.endpoint, (endpoint = { inFlight: 0, queue: [] }));
      endpoint.queue.push(message);
    }
    for (const endpoint of new Set(messages.map((m) => m.endpoint))) this.pump(endpoint);
  }

  /** Starts no more sends; queued messages are due again when their claim lapses. */
  stop(): void {
    this.stopped = true;
  }

  private inHand(endpoint: string): number {
    const state = this.endpoints.get(endpoint);
    return state ? state.inFlight + state.queue.length : 0;
  }

  private pump(endpoint: string): void {
    const state = this.endpoints.get(endpoint)!;
    while (state.inFlight < this.options.perEndpoint && state.queue.length > 0 && !this.stopped) {
      const message = state.queue.shift()!;
      state.inFlight++;
      this.inFlight++;
      void this.options.send(message).finally(() => this.sent(endpoint, state));
    }
  }

  private sent(endpoint: string, state: Endpoint): void {
    const endpointWasFull = this.isFull(endpoint);
    const allWereBusy = this.inFlight >= this.options.maxInFlight;
    state.inFlight--;
    this.inFlight--;
    if (state.inFlight === 0 && state.queue.length === 0) this.endpoints.delete(endpoint);
    else this.pump(endpoint);
    // Look at the outbox again when this endpoint wants a refill, when it drained, or when a slot of the
    // overall limit came free — not after every send.
    const refill = endpointWasFull && !this.isFull(endpoint);
    if (refill || allWereBusy || !this.endpoints.has(endpoint)) this.options.poke();
  }
}
