/**
 * agentjobs latency (issue item 3): jobs dispatched over HTTP at a steady rate (open loop) to
 * idle protocol workers; dispatch → claimed (the moment the worker holds the job, i.e. its
 * handler starts: named `start` like the peers' add → handler start) and dispatch → completed
 * (the server acknowledged the complete), each from the moment the dispatch was due.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { sendHttp } from '../lib/http-send.js';
import { joinLatencies, latencyFigures, waitUntil } from '../lib/measure.js';
import { runOpenLoop, type OpenLoopResult } from '../lib/open-loop.js';
import { NOOP_RESULT } from '../lib/payload.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { dispatchedId, dispatchJson, type JobsTarget } from './api.js';
import { DEPLOYMENT_LABELS, DEPLOYMENTS, startAgentjobs, type DeploymentName } from './deployment.js';
import { startProtocolWorker } from './protocol-worker.js';

/** What one latency pass measured, per job id, in `performance.now()` times. */
export interface LatencyPass {
  /** The open-loop driver's own outcome. */
  driven: OpenLoopResult;
  /** When each dispatch was due. */
  dueAt: Map<string, number>;
  /** When the 202 answer arrived. */
  acceptedAt: Map<string, number>;
  /** When a worker held the job. */
  claimedAt: Map<string, number>;
  /** When its complete was acknowledged. */
  completedAt: Map<string, number>;
}

/**
 * Dispatches at `ctx.sizes.latencyRate` for `durationMs` to an idle worker and waits until every
 * dispatched job has completed. Shared with the growth scenarios, which measure claim latency
 * the same way on a large store, and with the worker-protocol floor (`peers/fastify-bare.ts`), which speaks the
 * same protocol. `claimLoops` long polls wait at once (the protocol worker's default, 2, unless given).
 */
export async function latencyPass(ctx: ScenarioContext, server: JobsTarget, durationMs: number, claimLoops = 2): Promise<LatencyPass> {
  const pass: Omit<LatencyPass, 'driven'> = { dueAt: new Map(), acceptedAt: new Map(), claimedAt: new Map(), completedAt: new Map() };
  const worker = startProtocolWorker({
    origins: server.origins,
    agentId: server.agent.id,
    token: server.agent.worker_token,
    concurrency: ctx.sizes.concurrency,
    claimLoops,
    result: NOOP_RESULT,
    onClaimed: (id, at) => pass.claimedAt.set(id, at),
    onCompleted: (id, at) => pass.completedAt.set(id, at),
  });
  const pools = server.origins.map((origin) => new Pool(origin, { connections: ctx.sizes.concurrency, pipelining: 1 }));
  const body = dispatchJson(server.agent.id);
  const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
  try {
    const driven = await runOpenLoop({
      ratePerSec: ctx.sizes.latencyRate,
      durationMs,
      op: async ({ seq, intendedAt }) => {
        const answer = await sendHttp(pools[seq % pools.length]!, { method: 'POST', path: '/v1/jobs', headers, body }, true);
        if (answer.status !== 202) throw new Error(`dispatch answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        const id = dispatchedId(answer.body);
        pass.acceptedAt.set(id, performance.now());
        pass.dueAt.set(id, intendedAt);
      },
    });
    if (driven.errors) throw new Error(`${driven.errors} failed dispatches: ${driven.firstError}`);
    await waitUntil(
      () => worker.completed >= driven.ok || worker.errors > 0,
      60_000,
      () => `${worker.completed} of ${driven.ok} jobs completed`,
    );
    if (worker.errors) throw new Error(`worker: ${worker.errors} errors, first: ${worker.firstError}`);
    return { ...pass, driven };
  } finally {
    await worker.stop();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/** Latency on deployment `name`; each round on a fresh store. */
export function agentjobsLatency(name: DeploymentName): Scenario {
  const deployment = DEPLOYMENTS[name];
  return {
    id: `agentjobs.latency.${name}`,
    group: 'latency',
    label: `agentjobs dispatch → claimed / completed (${DEPLOYMENT_LABELS[name]})`,
    description:
      'Open-loop dispatches over HTTP at a steady rate to idle long-polling protocol workers; latency from when each dispatch was due to the claim answer holding it (start) and to the acknowledged complete (completed).',
    requires: deployment.engine === 'postgres' ? ['agentjobs', 'postgres'] : ['agentjobs'],
    config: { ...deployment, claimLoops: 2, waitSeconds: 5 },
    async setup() {},
    async run(ctx, round): Promise<Figure[]> {
      const server = await startAgentjobs(ctx, deployment, `latency_${name}_${round}`);
      try {
        await latencyPass(ctx, server, Math.min(2000, ctx.sizes.latencyMs));
        const cpu0 = server.cpuSeconds();
        const pass = await latencyPass(ctx, server, ctx.sizes.latencyMs);
        return latencyPassFigures(pass, server.cpuSeconds() - cpu0);
      } finally {
        await server.stop();
      }
    },
    async teardown() {},
  };
}

/**
 * The figures of a latency round: dispatch → claimed (`start`) and → completed, the 202's p99, and the server's CPU
 * per job over the pass (`serverCpuSeconds`): at a steady low rate, what a job costs the server is what it takes
 * from the cores the other processes on the job's path are waiting for.
 */
export function latencyPassFigures(pass: LatencyPass, serverCpuSeconds: number): Figure[] {
  return [
    ...latencyFigures('start', joinLatencies(pass.dueAt, pass.claimedAt), pass.driven),
    ...latencyFigures('completed', joinLatencies(pass.dueAt, pass.completedAt)),
    ...latencyFigures('dispatch', joinLatencies(pass.dueAt, pass.acceptedAt)).filter((f) => f.name === 'dispatch p99'),
    { name: 'server CPU/job', unit: 'µs', value: (serverCpuSeconds * 1e6) / Math.max(1, pass.driven.ok), better: 'lower' },
  ];
}
