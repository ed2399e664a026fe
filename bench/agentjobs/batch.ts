/**
 * agentjobs batches: `POST /v1/batches` of BATCH_SIZE jobs, answered 202 once all are durably stored (one
 * transaction), from BATCH_CALLERS concurrent clients — beside BullMQ's addBulk and pg-boss's insert.
 */
import { httpLoad } from '../lib/http-load.js';
import { BATCH_CALLERS, BATCH_SIZE } from '../lib/batch.js';
import { dispatchBody } from '../lib/payload.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { batchFigures } from '../peers/bullmq.js';
import { DEPLOYMENT_LABELS, DEPLOYMENTS, startAgentjobs, type DeploymentName, type RunningAgentjobs } from './deployment.js';

/** Batch dispatch throughput on deployment `name`; every round starts from an empty store. */
export function agentjobsBatch(name: DeploymentName): Scenario {
  const deployment = DEPLOYMENTS[name];
  const load = (server: RunningAgentjobs, durationMs: number) => {
    const body = JSON.stringify({ jobs: Array.from({ length: BATCH_SIZE }, () => dispatchBody(server.agent.id)) });
    const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
    return httpLoad({
      origins: server.origins,
      connections: BATCH_CALLERS,
      durationMs,
      expectStatus: 202,
      request: () => ({ method: 'POST', path: '/v1/batches', headers, body }),
    });
  };
  return {
    id: `agentjobs.batch.${name}`,
    group: 'batch',
    label: `agentjobs POST /v1/batches ×${BATCH_SIZE} (${DEPLOYMENT_LABELS[name]})`,
    description: `POST /v1/batches of ${BATCH_SIZE} jobs with the job payload, answered 202 once all are stored in one transaction; closed loop over ${BATCH_CALLERS} keep-alive connections; fresh store each round.`,
    requires: deployment.engine === 'postgres' ? ['agentjobs', 'postgres'] : ['agentjobs'],
    config: { ...deployment, batchSize: BATCH_SIZE, callers: BATCH_CALLERS },
    async setup() {},
    async run(ctx: ScenarioContext, round): Promise<Figure[]> {
      const server = await startAgentjobs(ctx, deployment, `batch_${name}_${round}`);
      try {
        await load(server, ctx.sizes.warmupMs);
        const cpu0 = server.cpuSeconds();
        const result = await load(server, ctx.sizes.throughputMs);
        const cpuSeconds = server.cpuSeconds() - cpu0;
        if (result.errors) throw new Error(`${result.errors} failed batches: ${result.firstError}`);
        return [
          ...batchFigures(result.opsPerSec, result.latency),
          { name: 'server CPU/job', unit: 'µs', value: (cpuSeconds * 1e6) / (result.ok * BATCH_SIZE), better: 'lower' },
        ];
      } finally {
        await server.stop();
      }
    },
    async teardown() {},
  };
}
