/**
 * Closed-loop driver: N callers, each issuing its next operation as soon as the previous one
 * finished. This measures throughput at a fixed concurrency (how dispatch is specified: "64
 * concurrent callers"), not latency under a given arrival rate; see open-loop.ts for that.
 */
import { performance } from 'node:perf_hooks';
import { SampleBuffer, summarize, type LatencySummary } from './stats.js';

/** Options of {@link runClosedLoop}. Exactly one of `durationMs` and `count` must be given. */
export interface ClosedLoopOptions {
  /** Number of concurrent callers. */
  concurrency: number;
  /** Stop issuing new operations after this many milliseconds. */
  durationMs?: number;
  /** Stop after this many operations have been issued in total. */
  count?: number;
  /**
   * One operation. `seq` is a global sequence number (0-based) and `caller` the caller index,
   * for operations that need to spread keys or connections. A rejection counts as an error and
   * the caller carries on.
   */
  op: (seq: number, caller: number) => Promise<void>;
  /** Stop the whole run at the first error instead of counting it. @default false */
  stopOnError?: boolean;
}

/** Outcome of a closed-loop run. */
export interface ClosedLoopResult {
  /** Operations that resolved. */
  ok: number;
  /** Operations that rejected. */
  errors: number;
  /** The first error message seen, for the report. */
  firstError?: string;
  /** Wall time from the first call to the last completion, in ms. */
  elapsedMs: number;
  /** Successful operations per second over `elapsedMs`. */
  opsPerSec: number;
  /** Per-operation latency in ms (successful operations only). */
  latency: LatencySummary;
}

/**
 * Runs `op` from `concurrency` callers until the duration or count is reached, then waits for
 * the operations in flight (they count: their work was issued inside the window).
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { concurrency, durationMs, count, op, stopOnError = false } = options;
  if ((durationMs === undefined) === (count === undefined)) {
    throw new Error('runClosedLoop: give exactly one of durationMs and count');
  }
  const latencies = new SampleBuffer();
  let issued = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stopped = false;
  const start = performance.now();
  const deadline = durationMs === undefined ? Number.POSITIVE_INFINITY : start + durationMs;
  const limit = count ?? Number.POSITIVE_INFINITY;

  const caller = async (callerIndex: number): Promise<void> => {
    while (!stopped && issued < limit && performance.now() < deadline) {
      const seq = issued++;
      const t0 = performance.now();
      try {
        await op(seq, callerIndex);
        latencies.push(performance.now() - t0);
        ok++;
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
        if (stopOnError) stopped = true;
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  const elapsedMs = performance.now() - start;
  return {
    ok,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs,
    opsPerSec: (ok * 1000) / elapsedMs,
    latency: summarize(latencies.values()),
  };
}
