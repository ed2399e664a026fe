/**
 * BullMQ peers: `Queue.add` throughput, end-to-end throughput through a `Worker`, and add →
 * handler-start latency at a steady rate. Redis here runs without AOF, so an `add` is
 * acknowledged from memory: the dispatch figure is not a durable one (the results file records
 * Redis's persistence settings next to it).
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { runClosedLoop } from '../lib/closed-loop.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { dispatchBody, PLACEHOLDER_AGENT_ID } from '../lib/payload.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { joinLatencies, latencyFigures, waitUntil } from '../lib/measure.js';
import { BATCH_CALLERS, BATCH_SIZE } from '../lib/batch.js';

/** Key prefix, so that `obliterate` can never touch another application's queues. */
const PREFIX = 'agentjobs-bench';
const DATA = dispatchBody(PLACEHOLDER_AGENT_ID);

function connection(ctx: ScenarioContext): ConnectionOptions {
  // maxRetriesPerRequest: null is what BullMQ requires for the blocking connection of a Worker.
  return { host: ctx.redis.host, port: ctx.redis.port, maxRetriesPerRequest: null };
}

/** A fresh, empty queue; its name carries the scenario so that scenarios never share keys. */
async function openQueue(ctx: ScenarioContext, name: string): Promise<Queue> {
  const queue = new Queue(name, { connection: connection(ctx), prefix: PREFIX });
  await queue.waitUntilReady();
  await queue.obliterate({ force: true });
  return queue;
}

/**
 * `Queue.add` one job at a time from N concurrent callers on one Queue (one Redis connection,
 * as an application would share it), for a fixed duration.
 */
export function bullmqAdd(): Scenario {
  let queue: Queue | undefined;
  const add = (ctx: ScenarioContext, durationMs: number) =>
    runClosedLoop({
      concurrency: ctx.sizes.concurrency,
      durationMs,
      op: async () => {
        await queue!.add('job', DATA);
      },
    });
  return {
    id: 'bullmq.add',
    group: 'dispatch',
    label: 'BullMQ Queue.add (Redis, no fsync)',
    description: 'Queue.add of the job payload, one job per call, from concurrent callers sharing one Queue.',
    requires: ['redis'],
    config: { jobOptions: 'defaults (completed jobs kept)' },
    async setup(ctx) {
      queue = await openQueue(ctx, 'dispatch');
      await add(ctx, ctx.sizes.warmupMs);
      await queue.obliterate({ force: true });
    },
    async run(ctx) {
      const result = await add(ctx, ctx.sizes.throughputMs);
      // Empty the queue so the next round starts from the same Redis memory footprint.
      await queue!.obliterate({ force: true });
      if (result.errors) throw new Error(`${result.errors} failed adds: ${result.firstError}`);
      return [
        { name: 'accepted', unit: 'jobs/s', value: result.opsPerSec, better: 'higher' },
        { name: 'request p50', unit: 'ms', value: result.latency.p50, better: 'lower' },
        { name: 'request p99', unit: 'ms', value: result.latency.p99, better: 'lower' },
      ];
    },
    async teardown() {
      await queue?.obliterate({ force: true }).catch(() => undefined);
      await queue?.close();
      queue = undefined;
    },
  };
}

/**
 * `Queue.addBulk` of BATCH_SIZE jobs per call from BATCH_CALLERS concurrent callers sharing one Queue: the
 * reference of the batch group (one MULTI of adds in Redis, acknowledged from memory).
 */
export function bullmqAddBulk(): Scenario {
  let queue: Queue | undefined;
  const jobs = Array.from({ length: BATCH_SIZE }, () => ({ name: 'job', data: DATA }));
  const add = (durationMs: number) =>
    runClosedLoop({
      concurrency: BATCH_CALLERS,
      durationMs,
      op: async () => {
        await queue!.addBulk(jobs);
      },
    });
  return {
    id: 'bullmq.addBulk',
    group: 'batch',
    label: `BullMQ Queue.addBulk ×${BATCH_SIZE} (Redis, no fsync)`,
    description: `Queue.addBulk of ${BATCH_SIZE} jobs with the job payload per call, from ${BATCH_CALLERS} concurrent callers sharing one Queue.`,
    reference: true,
    requires: ['redis'],
    config: { batchSize: BATCH_SIZE, callers: BATCH_CALLERS },
    async setup(ctx) {
      queue = await openQueue(ctx, 'batch');
      await add(ctx.sizes.warmupMs);
      await queue.obliterate({ force: true });
    },
    async run(ctx) {
      const result = await add(ctx.sizes.throughputMs);
      await queue!.obliterate({ force: true });
      if (result.errors) throw new Error(`${result.errors} failed addBulk calls: ${result.firstError}`);
      return batchFigures(result.opsPerSec, result.latency);
    },
    async teardown() {
      await queue?.obliterate({ force: true }).catch(() => undefined);
      await queue?.close();
      queue = undefined;
    },
  };
}

/** The figures of a batch scenario from its calls per second and call latencies. */
export function batchFigures(callsPerSec: number, latency: { p50: number; p99: number }): Figure[] {
  return [
    { name: 'accepted', unit: 'jobs/s', value: callsPerSec * BATCH_SIZE, better: 'higher' },
    { name: 'call p50', unit: 'ms', value: latency.p50, better: 'lower' },
    { name: 'call p99', unit: 'ms', value: latency.p99, better: 'lower' },
  ];
}

/**
 * End to end: N no-op jobs added by concurrent callers while a Worker (concurrency 64) processes
 * them; the clock runs from the first add to the last `completed` event.
 */
export function bullmqEndToEnd(): Scenario {
  let queue: Queue | undefined;
  const round = async (ctx: ScenarioContext, jobs: number): Promise<Figure[]> => {
    let completed = 0;
    let lastCompletedAt = 0;
    const worker = new Worker('e2e', async () => undefined, {
      connection: connection(ctx),
      prefix: PREFIX,
      concurrency: ctx.sizes.concurrency,
    });
    worker.on('completed', () => {
      completed++;
      lastCompletedAt = performance.now();
    });
    try {
      await worker.waitUntilReady();
      const start = performance.now();
      const adds = await runClosedLoop({
        concurrency: ctx.sizes.concurrency,
        count: jobs,
        op: async () => {
          await queue!.add('job', DATA);
        },
      });
      if (adds.errors) throw new Error(`${adds.errors} failed adds: ${adds.firstError}`);
      await waitUntil(() => completed >= jobs, 120_000, () => `${completed} of ${jobs} jobs completed`);
      const elapsedMs = lastCompletedAt - start;
      return [{ name: 'jobs/s', unit: 'jobs/s', value: (jobs * 1000) / elapsedMs, better: 'higher' }];
    } finally {
      await worker.close();
      await queue!.obliterate({ force: true });
    }
  };
  return {
    id: 'bullmq.e2e',
    group: 'e2e',
    label: 'BullMQ add → Worker (no-op)',
    description:
      'Jobs added one by one by concurrent callers while a Worker with concurrency 64 runs a no-op handler; jobs/s from the first add to the last completed event.',
    reference: true,
    requires: ['redis'],
    config: { workerConcurrency: 'sizes.concurrency', workers: 1 },
    async setup(ctx) {
      queue = await openQueue(ctx, 'e2e');
      await round(ctx, Math.min(2000, ctx.sizes.e2eJobs));
    },
    run: (ctx) => round(ctx, ctx.sizes.e2eJobs),
    async teardown() {
      await queue?.obliterate({ force: true }).catch(() => undefined);
      await queue?.close();
      queue = undefined;
    },
  };
}

/**
 * Latency: jobs added at a steady rate (open loop) to an idle Worker; add → handler start, where
 * "add" is when the add was due, so that a stalled client cannot hide latency.
 */
export function bullmqLatency(): Scenario {
  let queue: Queue | undefined;
  const round = async (ctx: ScenarioContext, durationMs: number): Promise<Figure[]> => {
    const startedAt = new Map<string, number>();
    const dueAt = new Map<string, number>();
    const worker = new Worker(
      'latency',
      async (job: Job) => {
        startedAt.set(job.id!, performance.now());
      },
      { connection: connection(ctx), prefix: PREFIX, concurrency: ctx.sizes.concurrency },
    );
    try {
      await worker.waitUntilReady();
      const driven = await runOpenLoop({
        ratePerSec: ctx.sizes.latencyRate,
        durationMs,
        op: async ({ intendedAt }) => {
          const job = await queue!.add('job', DATA);
          dueAt.set(job.id!, intendedAt);
        },
      });
      if (driven.errors) throw new Error(`${driven.errors} failed adds: ${driven.firstError}`);
      await waitUntil(() => startedAt.size >= driven.ok, 30_000, () => `${startedAt.size} of ${driven.ok} jobs started`);
      return latencyFigures('start', joinLatencies(dueAt, startedAt), driven);
    } finally {
      await worker.close();
      await queue!.obliterate({ force: true });
    }
  };
  return {
    id: 'bullmq.latency',
    group: 'latency',
    label: 'BullMQ add → handler start',
    description: 'Open-loop adds at a steady rate; latency from when each add was due to when its handler started.',
    reference: true,
    requires: ['redis'],
    config: { workerConcurrency: 'sizes.concurrency' },
    async setup(ctx) {
      queue = await openQueue(ctx, 'latency');
      await round(ctx, Math.min(1000, ctx.sizes.latencyMs));
    },
    run: (ctx) => round(ctx, ctx.sizes.latencyMs),
    async teardown() {
      await queue?.obliterate({ force: true }).catch(() => undefined);
      await queue?.close();
      queue = undefined;
    },
  };
}
