/**
 * Closed-loop HTTP load generator on undici: N keep-alive connections, each carrying one request
 * at a time (no pipelining, as a browser or SDK client would), for a fixed duration or count.
 */
import { Client } from 'undici';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';
import { sendHttp, type HttpRequestSpec } from './http-send.js';

export type { HttpRequestSpec } from './http-send.js';

/** Options of {@link httpLoad}. */
export interface HttpLoadOptions {
  /**
   * Origins to load, e.g. `['http://127.0.0.1:3000']`. With several (one per server process),
   * connections are spread evenly over them.
   */
  origins: string[];
  /** Concurrent keep-alive connections, one request in flight on each. */
  connections: number;
  /** Fixed duration in ms (give this or `count`). */
  durationMs?: number;
  /** Fixed number of requests (give this or `durationMs`). */
  count?: number;
  /** The request for sequence number `seq`. */
  request: (seq: number) => HttpRequestSpec;
  /** Status code that counts as success. @default 200 */
  expectStatus?: number;
  /**
   * Called with each successful response body when given; otherwise bodies are dropped unread,
   * which keeps the client's own CPU use low.
   */
  onBody?: (seq: number, body: string) => void;
}

/** Outcome of {@link httpLoad}: the closed-loop figures plus the status codes seen. */
export interface HttpLoadResult extends ClosedLoopResult {
  /** Count of responses per status code. */
  statusCounts: Record<number, number>;
}

/**
 * Drives the origins with `connections` concurrent clients and returns requests/s and latency
 * percentiles. A response with another status than `expectStatus` is an error (with its body in
 * `firstError`), so a misconfigured run cannot report a fast stream of 400s as throughput.
 *
 * Each caller owns one `Client` (one connection): a `Pool` would pick a connection per request,
 * which costs the client CPU that the server under test would then lack.
 */
export async function httpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const { origins, connections, request, expectStatus = 200, onBody } = options;
  const clients = Array.from(
    { length: connections },
    (_, i) =>
      new Client(origins[i % origins.length]!, {
        pipelining: 1,
        // Generous timeouts: a server stalling for seconds should show up as latency, not errors.
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
        keepAliveTimeout: 60_000,
      }),
  );
  const statusCounts: Record<number, number> = {};
  try {
    const result = await runClosedLoop({
      concurrency: connections,
      ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
      ...(options.count === undefined ? {} : { count: options.count }),
      op: async (seq, caller) => {
        const spec = request(seq);
        // The body is kept when the caller wants it, or to explain an unexpected status.
        const answer = await sendHttp(clients[caller]!, spec, onBody ? true : (status) => status !== expectStatus);
        statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1;
        if (answer.status !== expectStatus) {
          throw new Error(`${spec.method} ${spec.path} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        }
        onBody?.(seq, answer.body);
      },
    });
    return { ...result, statusCounts };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}
