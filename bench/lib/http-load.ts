/**
 * Closed-loop HTTP load generator on undici: N keep-alive connections, each carrying one request
 * at a time (no pipelining, as a browser or SDK client would), for a fixed duration or count.
 */
import { Pool, type Dispatcher } from 'undici';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';

/** One request to send; built per call so bodies may vary (ids, idempotency keys). */
export interface HttpRequestSpec {
  /** HTTP method. */
  method: Dispatcher.HttpMethod;
  /** Path with query, e.g. `/v1/jobs`. */
  path: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Request body, already serialised (serialising inside the loop would load the client). */
  body?: string | Buffer;
}

/** Options of {@link httpLoad}. */
export interface HttpLoadOptions {
  /**
   * Origins to load, e.g. `['http://127.0.0.1:3000']`. With several (one per server process),
   * connections are split evenly between them.
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
   * Called with each successful response body when given; otherwise bodies are discarded
   * unread, which keeps the client's own CPU use low.
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
 */
export async function httpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const { origins, connections, request, expectStatus = 200, onBody } = options;
  const perOrigin = Math.ceil(connections / origins.length);
  const pools = origins.map(
    (origin) =>
      new Pool(origin, {
        connections: perOrigin,
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
        const pool = pools[caller % pools.length]!;
        const res = await pool.request({
          method: spec.method,
          path: spec.path,
          ...(spec.headers === undefined ? {} : { headers: spec.headers }),
          ...(spec.body === undefined ? {} : { body: spec.body }),
        });
        statusCounts[res.statusCode] = (statusCounts[res.statusCode] ?? 0) + 1;
        if (res.statusCode !== expectStatus) {
          const text = await res.body.text();
          throw new Error(`${spec.method} ${spec.path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
        }
        if (onBody) onBody(seq, await res.body.text());
        else await res.body.dump();
      },
    });
    return { ...result, statusCounts };
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}
