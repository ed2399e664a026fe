/**
 * agentjobs end to end (issue item 2): N jobs dispatched over HTTP by 64 clients while SDK
 * workers (`runWorker`, concurrency 64 in all) claim and complete them; with a `completed` webhook observer on every
 * job the clock stops when the last webhook reaches the local receiver, without observers when the
 * last complete is acknowledged. Compared with BullMQ (the group reference) and pg-boss.
 */
import { performance } from 'node:perf_hooks';
import { httpLoad } from '../lib/http-load.js';
import { waitUntil } from '../lib/measure.js';
import { NOOP_RESULT } from '../lib/payload.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { startWebhookReceiver, type WebhookReceiver } from '../lib/webhook-receiver.js';
import { dispatchJson, type JobsTarget } from './api.js';
import { DEPLOYMENT_LABELS, DEPLOYMENTS, startAgentjobs, withCli, type DeploymentName } from './deployment.js';
import { startProtocolWorker } from './protocol-worker.js';
import { startSdkWorker } from './sdk-worker.js';

/** Which worker completes the jobs: the SDK's `runWorker`, or the lean protocol worker (the server's figure). */
export type E2eWorker = 'sdk' | 'lean';

/** Options of {@link agentjobsEndToEnd}. */
export interface E2eOptions {
  /** A `completed` webhook observer on every job; the clock stops at the last webhook. */
  webhooks: boolean;
  /** @default 'sdk' */
  worker?: E2eWorker;
  /** Start this build of the server instead (`--baseline-cli`: before/after in one run). */
  baselineCli?: string;
}

/** Generous: at the 2,000 jobs/s a naive design reaches, 20,000 jobs take 10 s. */
const DRAIN_TIMEOUT_MS = 300_000;

/**
 * Pushes `jobs` jobs through and returns jobs/s from the first dispatch to the last webhook
 * (with a receiver) or the last acknowledged complete (without). Shared with the worker-protocol floor
 * (`peers/fastify-bare.ts`), which speaks the same protocol.
 */
export async function pushThrough(
  ctx: ScenarioContext,
  server: JobsTarget,
  jobs: number,
  receiver: WebhookReceiver | undefined,
  kind: E2eWorker,
): Promise<number> {
  const body = dispatchJson(
    server.agent.id,
    receiver ? [{ type: 'webhook', url: `${receiver.url}/completed`, events: ['completed'] }] : undefined,
  );
  const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
  receiver?.reset();
  let lastCompletedAt = 0;
  const worker = (kind === 'sdk' ? startSdkWorker : startProtocolWorker)({
    origins: server.origins,
    agentId: server.agent.id,
    token: server.agent.worker_token,
    apiKey: server.apiKey,
    concurrency: ctx.sizes.concurrency,
    result: NOOP_RESULT,
    onCompleted: (_id, at) => {
      lastCompletedAt = at;
    },
  });
  try {
    const start = performance.now();
    const dispatched = await httpLoad({
      origins: server.origins,
      connections: ctx.sizes.concurrency,
      count: jobs,
      expectStatus: 202,
      request: () => ({ method: 'POST', path: '/v1/jobs', headers, body }),
    });
    if (dispatched.errors) throw new Error(`${dispatched.errors} failed dispatches: ${dispatched.firstError}`);
    await waitUntil(() => worker.completed >= jobs || worker.errors > 0, DRAIN_TIMEOUT_MS, () => `${worker.completed} of ${jobs} jobs completed`);
    if (worker.errors) throw new Error(`worker: ${worker.errors} errors, first: ${worker.firstError}`);
    let end = lastCompletedAt;
    if (receiver) {
      await receiver.waitForDistinct(jobs, DRAIN_TIMEOUT_MS);
      end = receiver.deliveries.reduce((latest, d) => Math.max(latest, d.arrivedAt), 0);
    }
    return (jobs * 1000) / (end - start);
  } finally {
    await worker.stop();
  }
}

/** End-to-end throughput on deployment `name`, with or without a `completed` webhook per job. */
export function agentjobsEndToEnd(name: DeploymentName, options: E2eOptions): Scenario {
  const { webhooks: withWebhooks, worker = 'sdk', baselineCli } = options;
  const deployment = DEPLOYMENTS[name];
  const variant = `${worker === 'lean' ? '.lean' : ''}${baselineCli ? '.baseline' : ''}`;
  const workerText =
    worker === 'sdk'
      ? 'SDK workers (runWorker, concurrency 64 in all, long-poll claims of all free slots)'
      : 'the lean protocol worker (undici, two claim loops of up to 32 jobs, concurrency 64)';
  let receiver: WebhookReceiver | undefined;
  return {
    id: `agentjobs.e2e.${name}${withWebhooks ? '.webhooks' : ''}${variant}`,
    group: 'e2e',
    label: `agentjobs HTTP → ${worker === 'sdk' ? 'SDK' : 'lean'} workers${withWebhooks ? ' → webhook' : ''} (${DEPLOYMENT_LABELS[name]}${baselineCli ? ', baseline build' : ''})`,
    description:
      `Jobs dispatched over HTTP by concurrent clients while ${workerText} complete them` +
      (withWebhooks ? '; a completed webhook per job to a local receiver; jobs/s until the last webhook arrived.' : '; jobs/s until the last complete was acknowledged.'),
    requires: deployment.engine === 'postgres' ? ['agentjobs', 'postgres'] : ['agentjobs'],
    config: { ...deployment, webhooks: withWebhooks, worker, waitSeconds: 5, ...(baselineCli ? { cli: baselineCli } : {}) },
    async setup() {
      if (withWebhooks) receiver = await startWebhookReceiver();
    },
    async run(ctx, round): Promise<Figure[]> {
      const server = await startAgentjobs(withCli(ctx, baselineCli), deployment, `e2e_${name}_${withWebhooks ? 'wh' : 'nowh'}${variant.replace(/\./g, '_')}_${round}`);
      try {
        // A short pass first, so the measured one runs on warmed-up code.
        await pushThrough(ctx, server, Math.min(2000, ctx.sizes.e2eJobs), receiver, worker);
        const jobsPerSec = await pushThrough(ctx, server, ctx.sizes.e2eJobs, receiver, worker);
        return [
          { name: 'jobs/s', unit: 'jobs/s', value: jobsPerSec, better: 'higher' },
          { name: 'server RSS', unit: 'MB', value: (await server.rssBytes()) / 1e6, better: 'lower' },
        ];
      } finally {
        await server.stop();
      }
    },
    async teardown() {
      await receiver?.close();
      receiver = undefined;
    },
  };
}
