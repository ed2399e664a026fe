/**
 * agentjobs webhook delivery rate (issue item 4): messages delivered per second to a local
 * receiver. To measure delivery rather than job flow, each job carries the maximum of 10
 * observers (§2 limits) on `completed`, so completions produce messages ten times faster than
 * jobs complete and the delivery loop, not the workers, sets the pace.
 */
import { httpLoad } from '../lib/http-load.js';
import { waitUntil } from '../lib/measure.js';
import { NOOP_RESULT } from '../lib/payload.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { startWebhookReceiver, type WebhookReceiver } from '../lib/webhook-receiver.js';
import { dispatchJson, type WebhookObserver } from './api.js';
import { DEPLOYMENT_LABELS, DEPLOYMENTS, startAgentjobs, type DeploymentName, type RunningAgentjobs } from './deployment.js';
import { startProtocolWorker } from './protocol-worker.js';

/** Observers per job: the default limit of §2. */
const OBSERVERS_PER_JOB = 10;

async function deliveryPass(
  ctx: ScenarioContext,
  server: RunningAgentjobs,
  receiver: WebhookReceiver,
  messages: number,
): Promise<{ perSec: number; lagMs: number }> {
  const jobs = Math.ceil(messages / OBSERVERS_PER_JOB);
  // Distinct paths make distinct observers; the receiver accepts any path.
  const observers: WebhookObserver[] = Array.from({ length: OBSERVERS_PER_JOB }, (_, i) => ({
    type: 'webhook',
    url: `${receiver.url}/observer-${i}`,
    events: ['completed'],
  }));
  const body = dispatchJson(server.agent.id, observers);
  const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
  receiver.reset();
  // Dispatch everything first, so that during the measured part the server only completes jobs
  // and delivers messages.
  const dispatched = await httpLoad({
    origins: server.origins,
    connections: ctx.sizes.concurrency,
    count: jobs,
    expectStatus: 202,
    request: () => ({ method: 'POST', path: '/v1/jobs', headers, body }),
  });
  if (dispatched.errors) throw new Error(`${dispatched.errors} failed dispatches: ${dispatched.firstError}`);
  let lastCompletedAt = 0;
  const worker = startProtocolWorker({
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
    await waitUntil(() => worker.completed >= jobs || worker.errors > 0, 300_000, () => `${worker.completed} of ${jobs} jobs completed`);
    if (worker.errors) throw new Error(`worker: ${worker.errors} errors, first: ${worker.firstError}`);
    const expected = jobs * OBSERVERS_PER_JOB;
    await receiver.waitForDistinct(expected, 300_000);
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const d of receiver.deliveries) {
      first = Math.min(first, d.arrivedAt);
      last = Math.max(last, d.arrivedAt);
    }
    return { perSec: (expected * 1000) / (last - first), lagMs: last - lastCompletedAt };
  } finally {
    await worker.stop();
  }
}

/** Webhook delivery rate on deployment `name`; the group's reference (agentjobs has no peer here). */
export function agentjobsWebhooks(name: DeploymentName): Scenario {
  const deployment = DEPLOYMENTS[name];
  let receiver: WebhookReceiver | undefined;
  return {
    id: `agentjobs.webhooks.${name}`,
    group: 'webhooks',
    label: `agentjobs webhook delivery (${DEPLOYMENT_LABELS[name]})`,
    description: `Jobs with ${OBSERVERS_PER_JOB} completed observers each, dispatched first, then completed by protocol workers; messages/s from the first to the last delivery at a local receiver answering 204, and how long the last delivery trailed the last completion.`,
    reference: name === 'sqlite',
    requires: deployment.engine === 'postgres' ? ['agentjobs', 'postgres'] : ['agentjobs'],
    config: { ...deployment, observersPerJob: OBSERVERS_PER_JOB },
    async setup() {
      receiver = await startWebhookReceiver();
    },
    async run(ctx, round): Promise<Figure[]> {
      const server = await startAgentjobs(ctx, deployment, `webhooks_${name}_${round}`);
      try {
        await deliveryPass(ctx, server, receiver!, Math.min(2000, ctx.sizes.e2eJobs));
        const { perSec, lagMs } = await deliveryPass(ctx, server, receiver!, ctx.sizes.e2eJobs);
        return [
          { name: 'delivered', unit: 'msg/s', value: perSec, better: 'higher' },
          { name: 'lag after last complete', unit: 'ms', value: lagMs, better: 'lower' },
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
