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
import { dispatchJson } from './api.js';
import { DEPLOYMENT_LABELS, DEPLOYMENTS, startAgentjobs, type DeploymentName, type RunningAgentjobs } from './deployment.js';
import { startSdkWorker } from './sdk-worker.js';

/** Generous: at the 2,000 jobs/s a naive design reaches, 20,000 jobs take 10 s. */
const DRAIN_TIMEOUT_MS = 300_000;

/**
 * Pushes `jobs` jobs through and returns jobs/s from the first dispatch to the last webhook
 * (with a receiver) or the last acknowledged complete (without).
 */
async function pushThrough(
  ctx: ScenarioContext,
  server: RunningAgentjobs,
  jobs: number,
  receiver: WebhookReceiver | undefined,
): Promise<number> {
  const body = dispatchJson(
    server.agent.id,
    receiver ? [{ type: 'webhook', url: `${receiver.url}/completed`, events: ['completed'] }] : undefined,
  );
  const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
  receiver?.reset();
  let lastCompletedAt = 0;
  const worker = startSdkWorker({
    origins: server.origins,
    agentId: server.agent.id,
    token: server.agent.worker_token,
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

/**
 * End-to-end throughput on deployment `name`, with or without a `completed` webhook per job.
 */
export function agentjobsEndToEnd(name: DeploymentName, withWebhooks: boolean): Scenario {
  const deployment = DEPLOYMENTS[name];
  let receiver: WebhookReceiver | undefined;
  return {
    id: `agentjobs.e2e.${name}${withWebhooks ? '.webhooks' : ''}`,
    group: 'e2e',
    label: `agentjobs HTTP → workers${withWebhooks ? ' → webhook' : ''} (${DEPLOYMENT_LABELS[name]})`,
    description:
      `Jobs dispatched over HTTP by concurrent clients while SDK workers (runWorker, concurrency 64 in all, long-poll claims of all free slots) complete them` +
      (withWebhooks ? '; a completed webhook per job to a local receiver; jobs/s until the last webhook arrived.' : '; jobs/s until the last complete was acknowledged.'),
    requires: deployment.engine === 'postgres' ? ['agentjobs', 'postgres'] : ['agentjobs'],
    config: { ...deployment, webhooks: withWebhooks, worker: 'sdk runWorker', waitSeconds: 5 },
    async setup() {
      if (withWebhooks) receiver = await startWebhookReceiver();
    },
    async run(ctx, round): Promise<Figure[]> {
      const server = await startAgentjobs(ctx, deployment, `e2e_${name}_${withWebhooks ? 'wh' : 'nowh'}_${round}`);
      try {
        // A short pass first, so the measured one runs on warmed-up code.
        await pushThrough(ctx, server, Math.min(2000, ctx.sizes.e2eJobs), receiver);
        const jobsPerSec = await pushThrough(ctx, server, ctx.sizes.e2eJobs, receiver);
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
