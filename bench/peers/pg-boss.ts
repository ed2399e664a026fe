/**
 * pg-boss peers: `send` throughput, end-to-end throughput through `work()`, and send → handler
 * start latency at a steady rate, against a dedicated database (`agentjobs_bench`, schema
 * `pgboss_bench`) so the integration tests' `test` database is never touched.
 *
 * pg-boss 10 has no `teamSize`; its knobs are the number of `work()` loops, `batchSize` and
 * `pollingIntervalSeconds` (0.5 s at least). A loop fetches one batch, runs the handler, then
 * sleeps until the next poll — so by itself it moves at most `batchSize` jobs per 0.5 s. To give
 * it its best showing, the handler calls `notifyWorker` on its own loop after a full batch, which
 * makes pg-boss fetch again at once while work remains (the documented way to bypass the
 * polling interval) and poll only when the queue ran dry. See {@link PG_BOSS_TUNING}.
 */
import { performance } from 'node:perf_hooks';
import PgBoss from 'pg-boss';
import { runClosedLoop } from '../lib/closed-loop.js';
import { joinLatencies, latencyFigures, waitUntil } from '../lib/measure.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { dispatchBody, PLACEHOLDER_AGENT_ID } from '../lib/payload.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { ensureDatabase } from '../lib/services.js';
import { BATCH_CALLERS, BATCH_SIZE } from '../lib/batch.js';
import { batchFigures } from './bullmq.js';

/** Settings of the pg-boss peers. */
export interface PgBossTuning {
  /** Connections in pg-boss's pool. */
  poolMax: number;
  /** Number of `work()` loops. */
  workers: number;
  /** Jobs fetched per loop iteration; `workers × batchSize` is the concurrency (64). */
  batchSize: number;
  /** Polling interval of each loop, seconds (pg-boss refuses less than 0.5). */
  pollingIntervalSeconds: number;
  /** Re-fetch at once after a full batch (see the module comment). */
  drainFullBatches: boolean;
}

/**
 * The settings used: 64 jobs in flight, like every other end-to-end peer. Chosen with
 * tune-pg-boss.ts on this machine (3 interleaved rounds, 10,000 jobs; bench/README.md, "pg-boss
 * settings"): one loop fetching 64 at a time moved 1.26× the jobs of 4×16, 64×1 only 0.41×, and
 * polling alone 127 jobs/s; a pool of 16 sent 1.3× as fast as 10 and as fast as 32.
 */
export const PG_BOSS_TUNING: Readonly<PgBossTuning> = Object.freeze({
  poolMax: 16,
  workers: 1,
  batchSize: 64,
  pollingIntervalSeconds: 0.5,
  drainFullBatches: true,
});

/** Database and schema of the pg-boss peers. */
export const PG_BOSS_DATABASE = 'agentjobs_bench';
const SCHEMA = 'pgboss_bench';
const DATA = dispatchBody(PLACEHOLDER_AGENT_ID);

async function startBoss(ctx: ScenarioContext, tuning: PgBossTuning): Promise<PgBoss> {
  const connectionString = await ensureDatabase(ctx.postgresUrl, PG_BOSS_DATABASE);
  const boss = new PgBoss({
    connectionString,
    schema: SCHEMA,
    max: tuning.poolMax,
    // No maintenance or cron loops: they would run during other scenarios' rounds.
    supervise: false,
    schedule: false,
  });
  boss.on('error', (error: Error) => ctx.log(`pg-boss error: ${error.message}`));
  await boss.start();
  return boss;
}

/**
 * A queue that exists only for one round: created empty, dropped after (pg-boss 10 keeps each
 * queue in its own partition, so dropping it leaves no dead rows for the next round to scan).
 */
async function freshQueue(boss: PgBoss, base: string, round: number | string): Promise<string> {
  const name = `${base}-${round}`;
  await dropQueue(boss, name);
  await boss.createQueue(name);
  return name;
}

/**
 * Empties and drops a round's queue. pg-boss 10.4's `deleteQueue` alone fails on a queue that
 * still has jobs (its foreign key from job to queue is ON DELETE RESTRICT, which is never
 * deferred), so the jobs go first, by TRUNCATE — instant, where a DELETE of 100,000 rows would
 * leave dead tuples behind for the next round. TRUNCATE empties every queue of the bench schema,
 * which is safe because the runner runs one group, hence one pg-boss scenario, at a time.
 */
async function dropQueue(boss: PgBoss, name: string): Promise<void> {
  await boss.clearStorage();
  await boss.deleteQueue(name);
}

/**
 * Starts `tuning.workers` work() loops on `queue` whose handler calls `onJobs` and, after a full
 * batch, wakes its own loop. Returns a function that stops them.
 */
async function startWorkers(
  boss: PgBoss,
  queue: string,
  tuning: PgBossTuning,
  onJobs: (jobs: PgBoss.Job<object>[]) => void,
): Promise<() => Promise<void>> {
  for (let i = 0; i < tuning.workers; i++) {
    // The id is known once work() resolves, before the first fetch can have returned.
    let workerId: string | undefined;
    workerId = await boss.work<object>(
      queue,
      { batchSize: tuning.batchSize, pollingIntervalSeconds: tuning.pollingIntervalSeconds },
      async (jobs) => {
        onJobs(jobs);
        if (tuning.drainFullBatches && jobs.length === tuning.batchSize && workerId) boss.notifyWorker(workerId);
      },
    );
  }
  return () => boss.offWork(queue);
}

/**
 * The factories below take the tuning to use and, to compare tunings side by side
 * (tune-pg-boss.ts), a variant name appended to the scenario id and label.
 */

/** `send` one job per call from N concurrent callers, for a fixed duration. */
export function pgBossSend(tuning: PgBossTuning = PG_BOSS_TUNING, variant?: string): Scenario {
  let boss: PgBoss | undefined;
  const send = async (ctx: ScenarioContext, round: number | string, durationMs: number) => {
    const queue = await freshQueue(boss!, 'dispatch', round);
    try {
      return await runClosedLoop({
        concurrency: ctx.sizes.concurrency,
        durationMs,
        op: async () => {
          await boss!.send(queue, DATA);
        },
      });
    } finally {
      await dropQueue(boss!, queue);
    }
  };
  return {
    id: variant ? `pg-boss.send.${variant}` : 'pg-boss.send',
    group: 'dispatch',
    label: `pg-boss send (PostgreSQL, durable)${variant ? ` ${variant}` : ''}`,
    description: 'pg-boss send of the job payload, one job per call, from concurrent callers sharing one PgBoss.',
    requires: ['postgres'],
    config: { ...tuning, database: PG_BOSS_DATABASE, schema: SCHEMA },
    async setup(ctx) {
      boss = await startBoss(ctx, tuning);
      await send(ctx, 'warmup', ctx.sizes.warmupMs);
    },
    async run(ctx, round) {
      const result = await send(ctx, round, ctx.sizes.throughputMs);
      if (result.errors) throw new Error(`${result.errors} failed sends: ${result.firstError}`);
      return [
        { name: 'accepted', unit: 'jobs/s', value: result.opsPerSec, better: 'higher' },
        { name: 'request p50', unit: 'ms', value: result.latency.p50, better: 'lower' },
        { name: 'request p99', unit: 'ms', value: result.latency.p99, better: 'lower' },
      ];
    },
    async teardown() {
      await boss?.stop({ graceful: false });
      boss = undefined;
    },
  };
}

/** `insert` of BATCH_SIZE jobs per call (one multi-row INSERT) from BATCH_CALLERS concurrent callers. */
export function pgBossInsert(tuning: PgBossTuning = PG_BOSS_TUNING): Scenario {
  let boss: PgBoss | undefined;
  const insert = async (ctx: ScenarioContext, round: number | string, durationMs: number) => {
    const queue = await freshQueue(boss!, 'batch', round);
    const jobs = Array.from({ length: BATCH_SIZE }, () => ({ name: queue, data: DATA }));
    try {
      return await runClosedLoop({
        concurrency: BATCH_CALLERS,
        durationMs,
        op: async () => {
          await boss!.insert(jobs);
        },
      });
    } finally {
      await dropQueue(boss!, queue);
    }
  };
  return {
    id: 'pg-boss.insert',
    group: 'batch',
    label: `pg-boss insert ×${BATCH_SIZE} (PostgreSQL, durable)`,
    description: `pg-boss insert of ${BATCH_SIZE} jobs with the job payload per call, from ${BATCH_CALLERS} concurrent callers sharing one PgBoss.`,
    requires: ['postgres'],
    config: { ...tuning, batchSize: BATCH_SIZE, callers: BATCH_CALLERS, database: PG_BOSS_DATABASE, schema: SCHEMA },
    async setup(ctx) {
      boss = await startBoss(ctx, tuning);
      await insert(ctx, 'warmup', ctx.sizes.warmupMs);
    },
    async run(ctx, round) {
      const result = await insert(ctx, round, ctx.sizes.throughputMs);
      if (result.errors) throw new Error(`${result.errors} failed inserts: ${result.firstError}`);
      return batchFigures(result.opsPerSec, result.latency);
    },
    async teardown() {
      await boss?.stop({ graceful: false });
      boss = undefined;
    },
  };
}

/**
 * End to end: N no-op jobs sent by concurrent callers while the work() loops process them; the
 * clock runs from the first send until the database shows every job completed (pg-boss marks
 * jobs completed after the handler returns, without awaiting it, so the handler's return is not
 * the end).
 */
export function pgBossEndToEnd(tuning: PgBossTuning = PG_BOSS_TUNING, variant?: string): Scenario {
  let boss: PgBoss | undefined;
  const round = async (ctx: ScenarioContext, label: number | string, jobs: number): Promise<Figure[]> => {
    const queue = await freshQueue(boss!, 'e2e', label);
    let handled = 0;
    const stopWorkers = await startWorkers(boss!, queue, tuning, (batch) => {
      handled += batch.length;
    });
    try {
      const start = performance.now();
      const sends = await runClosedLoop({
        concurrency: ctx.sizes.concurrency,
        count: jobs,
        op: async () => {
          await boss!.send(queue, DATA);
        },
      });
      if (sends.errors) throw new Error(`${sends.errors} failed sends: ${sends.firstError}`);
      await waitUntil(() => handled >= jobs, 300_000, () => `${handled} of ${jobs} jobs handled`);
      // Poll for the completions only now, so the polling does not load the database earlier.
      const deadline = Date.now() + 60_000;
      while ((await boss!.getQueueSize(queue, { before: 'completed' })) > 0) {
        if (Date.now() > deadline) throw new Error('jobs handled but not marked completed after 60 s');
      }
      const elapsedMs = performance.now() - start;
      return [{ name: 'jobs/s', unit: 'jobs/s', value: (jobs * 1000) / elapsedMs, better: 'higher' }];
    } finally {
      await stopWorkers();
      await dropQueue(boss!, queue);
    }
  };
  return {
    id: variant ? `pg-boss.e2e.${variant}` : 'pg-boss.e2e',
    group: 'e2e',
    label: `pg-boss send → work() (no-op)${variant ? ` ${variant}` : ''}`,
    description:
      'Jobs sent one by one by concurrent callers while work() loops (workers × batchSize = 64 in flight) run a no-op handler; jobs/s from the first send until all are completed in the database.',
    requires: ['postgres'],
    config: { ...tuning, database: PG_BOSS_DATABASE, schema: SCHEMA },
    async setup(ctx) {
      boss = await startBoss(ctx, tuning);
      await round(ctx, 'warmup', Math.min(2000, ctx.sizes.e2eJobs));
    },
    run: (ctx, n) => round(ctx, n, ctx.sizes.e2eJobs),
    async teardown() {
      await boss?.stop({ graceful: false });
      boss = undefined;
    },
  };
}

/**
 * Latency: jobs sent at a steady rate (open loop); send → handler start. pg-boss polls, so
 * this is bounded below by the polling interval; a full batch re-fetches at once.
 */
export function pgBossLatency(tuning: PgBossTuning = PG_BOSS_TUNING, variant?: string): Scenario {
  let boss: PgBoss | undefined;
  const round = async (ctx: ScenarioContext, label: number | string, durationMs: number): Promise<Figure[]> => {
    const queue = await freshQueue(boss!, 'latency', label);
    const startedAt = new Map<string, number>();
    const dueAt = new Map<string, number>();
    const stopWorkers = await startWorkers(boss!, queue, tuning, (batch) => {
      const now = performance.now();
      for (const job of batch) startedAt.set(job.id, now);
    });
    try {
      const driven = await runOpenLoop({
        ratePerSec: ctx.sizes.latencyRate,
        durationMs,
        op: async ({ intendedAt }) => {
          const id = await boss!.send(queue, DATA);
          if (id === null) throw new Error('send returned no id');
          dueAt.set(id, intendedAt);
        },
      });
      if (driven.errors) throw new Error(`${driven.errors} failed sends: ${driven.firstError}`);
      await waitUntil(() => startedAt.size >= driven.ok, 30_000, () => `${startedAt.size} of ${driven.ok} jobs started`);
      return latencyFigures('start', joinLatencies(dueAt, startedAt), driven);
    } finally {
      await stopWorkers();
      await dropQueue(boss!, queue);
    }
  };
  return {
    id: variant ? `pg-boss.latency.${variant}` : 'pg-boss.latency',
    group: 'latency',
    label: `pg-boss send → handler start${variant ? ` ${variant}` : ''}`,
    description:
      'Open-loop sends at a steady rate; latency from when each send was due to when a work() handler received the job.',
    requires: ['postgres'],
    config: { ...tuning, database: PG_BOSS_DATABASE, schema: SCHEMA },
    async setup(ctx) {
      boss = await startBoss(ctx, tuning);
      await round(ctx, 'warmup', Math.min(1000, ctx.sizes.latencyMs));
    },
    run: (ctx, n) => round(ctx, n, ctx.sizes.latencyMs),
    async teardown() {
      await boss?.stop({ graceful: false });
      boss = undefined;
    },
  };
}
