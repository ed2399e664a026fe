/**
 * The agentjobs scenarios. They start `node dist/cli/main.js serve`, so run.ts skips them (with
 * a note) until the server has been built.
 */
import type { Scenario } from '../lib/scenario.js';
import { agentjobsBatch } from './batch.js';
import { agentjobsDispatch } from './dispatch.js';
import { agentjobsEndToEnd } from './e2e.js';
import { agentjobsGrowth } from './growth.js';
import { agentjobsLatency } from './latency.js';
import { agentjobsWebhooks } from './webhooks.js';

/**
 * Every agentjobs scenario (issue 6, items 1–6), fresh instances. With `baselineCli` (another build of the
 * server), dispatch and end to end on SQLite also run on that build, interleaved: before and after in one run.
 */
export function agentjobsScenarios(baselineCli?: string): Scenario[] {
  const baseline = baselineCli ? [agentjobsDispatch('sqlite', baselineCli), agentjobsEndToEnd('sqlite', { webhooks: false, baselineCli })] : [];
  return [
    ...baseline,
    agentjobsDispatch('sqlite'),
    agentjobsDispatch('pg1'),
    agentjobsDispatch('pg2'),
    agentjobsBatch('sqlite'),
    agentjobsBatch('pg1'),
    agentjobsEndToEnd('sqlite', { webhooks: true }),
    agentjobsEndToEnd('sqlite', { webhooks: false }),
    agentjobsEndToEnd('sqlite', { webhooks: true, worker: 'lean' }),
    agentjobsEndToEnd('sqlite', { webhooks: false, worker: 'lean' }),
    agentjobsEndToEnd('pg1', { webhooks: true }),
    agentjobsEndToEnd('pg2', { webhooks: true }),
    agentjobsLatency('sqlite'),
    agentjobsLatency('pg1'),
    agentjobsLatency('pg2'),
    agentjobsWebhooks('sqlite'),
    agentjobsGrowth('empty'),
    agentjobsGrowth('full'),
  ];
}
