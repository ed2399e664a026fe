/**
 * agentjobs dispatch: `POST /v1/jobs` accepted per second (202 = durably stored, §4) from 64
 * keep-alive clients, on each deployment — beside the bare Fastify endpoint, the reference of the
 * dispatch group.
 */
import { httpLoad } from '../lib/http-load.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { dispatchJson } from './api.js';
import { DEPLOYMENT_LABELS, DEPLOYMENTS, startAgentjobs, withCli, type DeploymentName, type RunningAgentjobs } from './deployment.js';

/**
 * Dispatch throughput on deployment `name`; every round starts from an empty store, like the peers' rounds.
 * With `baselineCli`, the server started is that build instead (`--baseline-cli`: before/after in one run).
 */
export function agentjobsDispatch(name: DeploymentName, baselineCli?: string): Scenario {
  const deployment = DEPLOYMENTS[name];
  const variant = baselineCli ? '.baseline' : '';
  const load = (ctx: ScenarioContext, server: RunningAgentjobs, durationMs: number) => {
    const body = dispatchJson(server.agent.id);
    const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
    return httpLoad({
      origins: server.origins,
      connections: ctx.sizes.concurrency,
      durationMs,
      expectStatus: 202,
      request: () => ({ method: 'POST', path: '/v1/jobs', headers, body }),
    });
  };
  return {
    id: `agentjobs.dispatch.${name}${variant}`,
    group: 'dispatch',
    label: `agentjobs POST /v1/jobs (${DEPLOYMENT_LABELS[name]}${baselineCli ? ', baseline build' : ''})`,
    description: `POST /v1/jobs with the job payload, answered 202 once durably stored; closed loop over keep-alive connections spread over ${deployment.processes} server process(es); fresh store each round.`,
    requires: deployment.engine === 'postgres' ? ['agentjobs', 'postgres'] : ['agentjobs'],
    config: { ...deployment, ...(baselineCli ? { cli: baselineCli } : {}) },
    async setup() {
      // Nothing lasts between rounds: each round starts its own deployment on an empty store.
    },
    async run(ctx, round): Promise<Figure[]> {
      const server = await startAgentjobs(withCli(ctx, baselineCli), deployment, `dispatch_${name}${variant}_${round}`);
      try {
        await load(ctx, server, ctx.sizes.warmupMs);
        const cpu0 = server.cpuSeconds();
        const result = await load(ctx, server, ctx.sizes.throughputMs);
        const cpuSeconds = server.cpuSeconds() - cpu0;
        if (result.errors) throw new Error(`${result.errors} failed dispatches: ${result.firstError}`);
        return [
          { name: 'accepted', unit: 'jobs/s', value: result.opsPerSec, better: 'higher' },
          { name: 'request p50', unit: 'ms', value: result.latency.p50, better: 'lower' },
          { name: 'request p99', unit: 'ms', value: result.latency.p99, better: 'lower' },
          { name: 'server CPU/job', unit: 'µs', value: (cpuSeconds * 1e6) / result.ok, better: 'lower' },
          { name: 'server RSS', unit: 'MB', value: (await server.rssBytes()) / 1e6, better: 'lower' },
        ];
      } finally {
        await server.stop();
      }
    },
    async teardown() {},
  };
}
