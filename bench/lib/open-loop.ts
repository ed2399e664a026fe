/**
 * Open-loop driver: issues operations on a fixed schedule (e.g. 500/s) whatever the system
 * answers, so that a slow system cannot slow the arrivals down and hide its own latency
 * ("coordinated omission"). Latencies computed against {@link OpenLoopTick.intendedAt} include any
 * delay the driver itself suffered, which is what a real client would see.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SampleBuffer, summarize, type LatencySummary } from './stats.js';

/** What each scheduled operation is told. */
export interface OpenLoopTick {
  /** 0-based sequence number. */
  seq: number;
  /** `performance.now()` at which this operation was due. */
  intendedAt: number;
}

/** Options of {@link runOpenLoop}. */
export interface OpenLoopOptions {
  /** Operations per second. */
  ratePerSec: number;
  /** How long to keep issuing, in ms. */
  durationMs: number;
  /** One operation; it is not awaited before the next one is due. */
  op: (tick: OpenLoopTick) => Promise<void>;
}

/** Outcome of an open-loop run. */
export interface OpenLoopResult {
  /** Operations issued. */
  issued: number;
  /** Operations that resolved. */
  ok: number;
  /** Operations that rejected. */
  errors: number;
  /** First error message, for the report. */
  firstError?: string;
  /** Rate actually achieved, issued / issuing window. */
  achievedRatePerSec: number;
  /**
   * How late the driver fired operations relative to their schedule, in ms. A large p99 here
   * means the benchmark process itself was saturated and the latencies measured are suspect.
   */
  schedulerLag: LatencySummary;
  /** Time from `intendedAt` until `op` resolved, in ms. */
  opLatency: LatencySummary;
}

/**
 * Issues `op` at `ratePerSec` for `durationMs`, then waits for every issued operation to settle.
 *
 * Timers fire at ~1 ms granularity, so every wake-up issues all operations that became due
 * since the last one; at 500/s (one every 2 ms) that is normally 0 or 1.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { ratePerSec, durationMs, op } = options;
  const intervalMs = 1000 / ratePerSec;
  const total = Math.floor((durationMs * ratePerSec) / 1000);
  const lag = new SampleBuffer();
  const latency = new SampleBuffer();
  const pending: Promise<void>[] = [];
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  let seq = 0;

  while (seq < total) {
    const now = performance.now();
    while (seq < total && start + seq * intervalMs <= now) {
      const intendedAt = start + seq * intervalMs;
      lag.push(now - intendedAt);
      pending.push(
        op({ seq, intendedAt }).then(
          () => {
            ok++;
            latency.push(performance.now() - intendedAt);
          },
          (error: unknown) => {
            errors++;
            firstError ??= error instanceof Error ? error.message : String(error);
          },
        ),
      );
      seq++;
    }
    const nextDue = start + seq * intervalMs;
    await sleep(Math.max(0, Math.min(1, nextDue - performance.now())));
  }
  const issuingMs = performance.now() - start;
  await Promise.all(pending);
  return {
    issued: seq,
    ok,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    achievedRatePerSec: (seq * 1000) / issuingMs,
    schedulerLag: summarize(lag.values()),
    opLatency: summarize(latency.values()),
  };
}
