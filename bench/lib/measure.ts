/**
 * Pieces the peer and agentjobs scenarios share: waiting for a condition, joining
 * "due" and "started" times into latencies, turning them into figures.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenLoopResult } from './open-loop.js';
import type { Figure } from './scenario.js';
import { summarize } from './stats.js';

/**
 * Polls `condition` every few ms until it holds; rejects after `timeoutMs` with `describe()`,
 * so a stuck round fails with what it was waiting for instead of hanging the run.
 */
export async function waitUntil(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(2);
  }
}

/**
 * Latencies (ms) of the jobs present in both maps: `end - start` per job id. Jobs missing from
 * either map are left out; callers check counts before joining.
 */
export function joinLatencies(start: ReadonlyMap<string, number>, end: ReadonlyMap<string, number>): number[] {
  const latencies: number[] = [];
  for (const [id, t0] of start) {
    const t1 = end.get(id);
    if (t1 !== undefined) latencies.push(t1 - t0);
  }
  return latencies;
}

/**
 * Figures `<prefix> p50/p99/max` from latency samples, plus the driver's own scheduling lag p99,
 * which should stay near 1 ms; a larger value means the benchmark process was the bottleneck.
 */
export function latencyFigures(prefix: string, latencies: number[], driven?: OpenLoopResult): Figure[] {
  const summary = summarize(latencies);
  const figures: Figure[] = [
    { name: `${prefix} p50`, unit: 'ms', value: summary.p50, better: 'lower' },
    { name: `${prefix} p99`, unit: 'ms', value: summary.p99, better: 'lower' },
    { name: `${prefix} max`, unit: 'ms', value: summary.max, better: 'lower' },
  ];
  if (driven) {
    figures.push({ name: 'driver lag p99', unit: 'ms', value: driven.schedulerLag.p99, better: 'lower' });
  }
  return figures;
}
