/**
 * The agentjobs scenarios. They start `node dist/cli/main.js serve`, so run.ts skips them (with
 * a note) until the server has been built.
 */
import type { Scenario } from '../lib/scenario.js';
import { agentjobsDispatch } from './dispatch.js';
import { agentjobsEndToEnd } from './e2e.js';
import { agentjobsGrowth } from './growth.js';
import { agentjobsLatency } from './latency.js';
import { agentjobsWebhooks } from './webhooks.js';

/** Every agentjobs scenario (issue 6, items 1–6), fresh instances. */
export function agentjobsScenarios(): Scenario[] {
  return [
    agentjobsDispatch('sqlite'),
    agentjobsDispatch('pg1'),
    agentjobsDispatch('pg2'),
    agentjobsEndToEnd('sqlite', true),
    agentjobsEndToEnd('sqlite', false),
    agentjobsEndToEnd('pg1', true),
    agentjobsEndToEnd('pg2', true),
    agentjobsLatency('sqlite'),
    agentjobsLatency('pg1'),
    agentjobsLatency('pg2'),
    agentjobsWebhooks('sqlite'),
    agentjobsGrowth('empty'),
    agentjobsGrowth('full'),
  ];
}
