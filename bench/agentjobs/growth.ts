/**
 * agentjobs growth (issue item 5): the same measurements on a store that already holds
 * `growthJobs` completed jobs (1,000,000 in a full run) and on an empty one, interleaved — the
 * empty store is the reference, so the ratio column reads "full store / empty store".
 *
 * Per round: dispatch rate (a fixed count of jobs, so the full store grows by little across
 * rounds), draining what was dispatched, claim latency at the steady rate (`start p99`), `GET
 * /v1/jobs/{id}` p99 at a steady rate, server RSS.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { httpLoad } from '../lib/http-load.js';
import { sendHttp } from '../lib/http-send.js';
import { joinLatencies, waitUntil } from '../lib/measure.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { NOOP_RESULT } from '../lib/payload.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { summarize } from '../lib/stats.js';
import { dispatchedId, dispatchJson } from './api.js';
import { DEPLOYMENTS, startAgentjobs, type RunningAgentjobs } from './deployment.js';
import { latencyPass } from './latency.js';
import { startProtocolWorker } from './protocol-worker.js';

/** Ids kept for GETs: enough to spread reads over the whole store. */
const SAMPLE_IDS = 10_000;
/** Seeding proceeds in chunks of this many jobs, with a progress line after each. */
const SEED_CHUNK = 50_000;

/**
 * Dispatches `jobs` jobs while a worker completes them, and waits until all are completed:
 * the store then looks like one that has served that many jobs. Returns a sample of their ids.
 */
export async function seed(ctx: ScenarioContext, server: RunningAgentjobs, jobs: number, label: string): Promise<string[]> {
  const body = dispatchJson(server.agent.id);
  const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
  const every = Math.max(1, Math.floor(jobs / SAMPLE_IDS));
  const sample: string[] = [];
  const worker = startProtocolWorker({
    origins: server.origins,
    agentId: server.agent.id,
    token: server.agent.worker_token,
    concurrency: ctx.sizes.concurrency,
    result: NOOP_RESULT,
  });
  const t0 = performance.now();
  try {
    for (let done = 0; done < jobs; ) {
      const count = Math.min(SEED_CHUNK, jobs - done);
      const base = done;
      const result = await httpLoad({
        origins: server.origins,
        connections: ctx.sizes.concurrency,
        count,
        expectStatus: 202,
        request: () => ({ method: 'POST', path: '/v1/jobs', headers, body }),
        onBody: (seq, text) => {
          if ((base + seq) % every === 0) sample.push(dispatchedId(text));
        },
      });
      if (result.errors) throw new Error(`${label}: ${result.errors} failed dispatches while seeding: ${result.firstError}`);
      done += count;
      ctx.log(`${label}: seeded ${done.toLocaleString('en-US')} of ${jobs.toLocaleString('en-US')} jobs (${Math.round((done * 1000) / (performance.now() - t0))}/s)`);
    }
    await waitUntil(() => worker.completed >= jobs || worker.errors > 0, 3_600_000, () => `${worker.completed} of ${jobs} seeded jobs completed`);
    if (worker.errors) throw new Error(`${label}: worker errors while seeding: ${worker.firstError}`);
    return sample;
  } finally {
    await worker.stop();
  }
}

/** Open-loop `GET /v1/jobs/{id}` over `ids` at the latency rate; returns the latency p99 in ms. */
export async function getP99(ctx: ScenarioContext, server: RunningAgentjobs, ids: readonly string[], durationMs: number): Promise<number> {
  const headers = { authorization: `Bearer ${server.apiKey}` };
  const pools = server.origins.map((origin) => new Pool(origin, { connections: ctx.sizes.concurrency, pipelining: 1 }));
  try {
    const driven = await runOpenLoop({
      ratePerSec: ctx.sizes.latencyRate,
      durationMs,
      op: async ({ seq }) => {
        // A multiplicative hash of seq spreads reads over the sample instead of walking it in order.
        const id = ids[(seq * 2654435761) % ids.length]!;
        const answer = await sendHttp(pools[seq % pools.length]!, { method: 'GET', path: `/v1/jobs/${id}`, headers }, (status) => status !== 200);
        if (answer.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      },
    });
    if (driven.errors) throw new Error(`${driven.errors} failed GETs: ${driven.firstError}`);
    return driven.opLatency.p99;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/** Dispatches a fixed count and returns jobs/s, then lets a worker drain them. */
async function dispatchThenDrain(ctx: ScenarioContext, server: RunningAgentjobs, count: number): Promise<number> {
  const body = dispatchJson(server.agent.id);
  const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
  const result = await httpLoad({
    origins: server.origins,
    connections: ctx.sizes.concurrency,
    count,
    expectStatus: 202,
    request: () => ({ method: 'POST', path: '/v1/jobs', headers, body }),
  });
  if (result.errors) throw new Error(`${result.errors} failed dispatches: ${result.firstError}`);
  // Drain, so the claim latency measured next is not waiting behind a backlog.
  const worker = startProtocolWorker({
    origins: server.origins,
    agentId: server.agent.id,
    token: server.agent.worker_token,
    concurrency: ctx.sizes.concurrency,
    result: NOOP_RESULT,
  });
  try {
    await waitUntil(() => worker.completed >= count || worker.errors > 0, 600_000, () => `${worker.completed} of ${count} jobs drained`);
    if (worker.errors) throw new Error(`worker: ${worker.errors} errors, first: ${worker.firstError}`);
  } finally {
    await worker.stop();
  }
  return result.opsPerSec;
}

/**
 * Growth figures on an empty store (a fresh one every round) or on the store seeded once with
 * `growthJobs` jobs (kept across rounds).
 */
export function agentjobsGrowth(store: 'empty' | 'full'): Scenario {
  const deployment = DEPLOYMENTS.sqlite;
  let full: { server: RunningAgentjobs; sample: string[] } | undefined;
  return {
    id: `agentjobs.growth.${store}`,
    group: 'growth',
    label: store === 'empty' ? 'agentjobs, empty store (SQLite)' : 'agentjobs, seeded store (SQLite)',
    description:
      store === 'empty'
        ? 'A fresh store each round: dispatch rate, claim latency at the steady rate, GET p99 at the steady rate, server RSS.'
        : 'One store seeded with growthJobs dispatched-and-completed jobs, kept across rounds (it grows by each round\'s dispatches): the same figures.',
    reference: store === 'empty',
    requires: ['agentjobs'],
    config: { ...deployment, sampleIds: SAMPLE_IDS },
    async setup(ctx) {
      if (store === 'empty') return;
      const server = await startAgentjobs(ctx, deployment, 'growth_full');
      try {
        const sample = await seed(ctx, server, ctx.sizes.growthJobs, 'growth');
        full = { server, sample };
      } catch (error) {
        await server.stop();
        throw error;
      }
    },
    async run(ctx, round): Promise<Figure[]> {
      const server = full?.server ?? (await startAgentjobs(ctx, deployment, `growth_empty_${round}`));
      try {
        await latencyPass(ctx, server, Math.min(2000, ctx.sizes.latencyMs));
        const accepted = await dispatchThenDrain(ctx, server, ctx.sizes.e2eJobs);
        const pass = await latencyPass(ctx, server, ctx.sizes.latencyMs / 2);
        const claim = summarize(joinLatencies(pass.dueAt, pass.claimedAt));
        // The empty store reads back this round's jobs; the full one reads across the seeded ones.
        const ids = full?.sample ?? [...pass.dueAt.keys()];
        const get = await getP99(ctx, server, ids, ctx.sizes.latencyMs / 2);
        return [
          { name: 'accepted', unit: 'jobs/s', value: accepted, better: 'higher' },
          { name: 'start p99', unit: 'ms', value: claim.p99, better: 'lower' },
          { name: 'GET p99', unit: 'ms', value: get, better: 'lower' },
          { name: 'server RSS', unit: 'MB', value: (await server.rssBytes()) / 1e6, better: 'lower' },
        ];
      } finally {
        if (!full) await server.stop();
      }
    },
    async teardown() {
      await full?.server.stop();
      full = undefined;
    },
  };
}
