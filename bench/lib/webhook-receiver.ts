/**
 * A local webhook receiver: answers every POST with 204, counts deliveries and records when each
 * arrived, so a benchmark can stop its clock at the last expected webhook.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One delivery as the receiver saw it. */
export interface Delivery {
  /** `performance.now()` when the body had been read. */
  arrivedAt: number;
  /** The `webhook-id` header (Standard Webhooks), for deduplication. */
  webhookId: string | undefined;
  /** `type` of the body (e.g. `job.completed`), when bodies are parsed. */
  type?: string;
  /** `data.job.id` of the body, when bodies are parsed. */
  jobId?: string;
}

/** Options of {@link startWebhookReceiver}. */
export interface WebhookReceiverOptions {
  /**
   * Parse each body as JSON to record its `type` and job id. Off by default: parsing a job object
   * per delivery costs the benchmark process CPU that the server under test would then lack.
   */
  parseBodies?: boolean;
}

/** A running receiver. */
export interface WebhookReceiver {
  /** Base URL, e.g. `http://127.0.0.1:40123`; any path under it is accepted. */
  url: string;
  /** Deliveries received so far (including duplicates). */
  readonly count: number;
  /** Distinct `webhook-id`s received so far. */
  readonly distinct: number;
  /** Every delivery, in arrival order. */
  readonly deliveries: readonly Delivery[];
  /** Forgets everything received so far (between rounds). */
  reset(): void;
  /**
   * Resolves once `distinct` reaches `n`; rejects after `timeoutMs` with how many had arrived.
   */
  waitForDistinct(n: number, timeoutMs: number): Promise<void>;
  /** Stops listening and closes keep-alive connections. */
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 on a free port.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const { parseBodies = false } = options;
  let deliveries: Delivery[] = [];
  let seen = new Set<string>();
  let waiter: { n: number; resolve: () => void } | undefined;

  const record = (req: IncomingMessage, body: string): void => {
    const header = req.headers['webhook-id'];
    const webhookId = Array.isArray(header) ? header[0] : header;
    const delivery: Delivery = { arrivedAt: performance.now(), webhookId };
    if (parseBodies && body) {
      try {
        const parsed = JSON.parse(body) as { type?: string; data?: { job?: { id?: string } } };
        if (parsed.type !== undefined) delivery.type = parsed.type;
        if (parsed.data?.job?.id !== undefined) delivery.jobId = parsed.data.job.id;
      } catch {
        // A malformed body is still a delivery; the count matters more than its content here.
      }
    }
    deliveries.push(delivery);
    // Without an id every delivery is distinct: the receiver cannot tell retries apart then.
    seen.add(webhookId ?? `anonymous-${deliveries.length}`);
    if (waiter && seen.size >= waiter.n) {
      waiter.resolve();
      waiter = undefined;
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      if (parseBodies) chunks.push(chunk);
    });
    req.on('end', () => {
      record(req, parseBodies ? Buffer.concat(chunks).toString('utf8') : '');
      res.statusCode = 204;
      res.end();
    });
  });
  // Senders keep connections open between deliveries; do not cut them while a run is idle.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return deliveries.length;
    },
    get distinct() {
      return seen.size;
    },
    get deliveries() {
      return deliveries;
    },
    reset() {
      deliveries = [];
      seen = new Set();
    },
    waitForDistinct(n, timeoutMs) {
      if (seen.size >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`webhook receiver: ${seen.size} of ${n} deliveries after ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
