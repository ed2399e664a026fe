/**
 * A/B of two builds of the server on one workload, alternating A B B A … so that the machine's drift falls
 * on both alike: `npx tsx bench/ab.ts --a OLD/dist/cli/main.js [--b dist/cli/main.js] [--worker lean|sdk|none]
 * [--webhooks] [--jobs 8000] [--rounds 4] [--postgres postgres://postgres@127.0.0.1:5432/postgres]`.
 * SQLite by default; with `--postgres`, one server process on a database created for each run.
 *
 * Each run starts the build on an empty store, dispatches `--jobs` jobs from 64 connections while the workers
 * (64 jobs in hand) complete them, and prints jobs/s until the last completion (or the last webhook with
 * `--webhooks`, or the last 202 with `--worker none`) and the server's CPU per job (user + system). The
 * medians and the ratio B/A close the report. A quick tool for one change; `npm run bench` is the benchmark.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { httpLoad } from './lib/http-load.js';
import { waitUntil } from './lib/measure.js';
import { NOOP_RESULT } from './lib/payload.js';
import type { ScenarioContext } from './lib/scenario.js';
import { median } from './lib/stats.js';
import { startWebhookReceiver } from './lib/webhook-receiver.js';
import { dispatchJson } from './agentjobs/api.js';
import { DEPLOYMENTS, startAgentjobs, withCli } from './agentjobs/deployment.js';
import { startProtocolWorker } from './agentjobs/protocol-worker.js';
import { startSdkWorker } from './agentjobs/sdk-worker.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: 'dist/cli/main.js' },
    worker: { type: 'string', default: 'lean' },
    webhooks: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '8000' },
    rounds: { type: 'string', default: '4' },
    postgres: { type: 'string' },
  },
});
if (!values.a) throw new Error('--a FILE: the build to compare against (another checkout\'s dist/cli/main.js)');
const worker = values.worker as 'lean' | 'sdk' | 'none';
if (!['lean', 'sdk', 'none'].includes(worker)) throw new Error(`--worker: lean, sdk or none, not "${values.worker}"`);
const jobs = Number(values.jobs);
const builds = { A: resolve(values.a), B: resolve(values.b) };

const workDir = await mkdtemp(join(tmpdir(), 'agentjobs-ab-'));
const ctx = {
  sizes: { concurrency: 64 },
  repoRoot: process.cwd(),
  agentjobsCli: builds.B,
  workDir,
  postgresUrl: values.postgres ?? '',
  log: () => {},
} as unknown as ScenarioContext;

async function once(build: 'A' | 'B', round: number): Promise<{ jobsPerSec: number; cpuUsPerJob: number }> {
  const server = await startAgentjobs(withCli(ctx, builds[build]), values.postgres ? DEPLOYMENTS.pg1 : DEPLOYMENTS.sqlite, `ab_${build}_${round}`);
  const receiver = values.webhooks ? await startWebhookReceiver() : undefined;
  try {
    const body = dispatchJson(server.agent.id, receiver ? [{ type: 'webhook', url: `${receiver.url}/completed`, events: ['completed'] }] : undefined);
    const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
    const start = (kind: 'lean' | 'sdk') =>
      (kind === 'sdk' ? startSdkWorker : startProtocolWorker)({
        origins: server.origins,
        agentId: server.agent.id,
        token: server.agent.worker_token,
        apiKey: server.apiKey,
        concurrency: 64,
        result: NOOP_RESULT,
      });
    const running = worker === 'none' ? undefined : start(worker);
    const cpu0 = server.cpuSeconds();
    const t0 = performance.now();
    const sent = await httpLoad({ origins: server.origins, connections: 64, count: jobs, expectStatus: 202, request: () => ({ method: 'POST', path: '/v1/jobs', headers, body }) });
    if (sent.errors) throw new Error(`${sent.errors} failed dispatches: ${sent.firstError}`);
    if (running) await waitUntil(() => running.completed >= jobs || running.errors > 0, 300_000, () => `${running.completed} of ${jobs} completed`);
    if (running?.errors) throw new Error(`worker: ${running.firstError}`);
    if (receiver) await receiver.waitForDistinct(jobs, 300_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpuUsPerJob = ((server.cpuSeconds() - cpu0) * 1e6) / jobs;
    await running?.stop();
    return { jobsPerSec: jobs / seconds, cpuUsPerJob };
  } finally {
    await receiver?.close();
    await server.stop();
  }
}

const results: Record<'A' | 'B', { jobsPerSec: number; cpuUsPerJob: number }[]> = { A: [], B: [] };
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const build of round % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
      const r = await once(build, round);
      results[build].push(r);
      console.log(`round ${round + 1} ${build}: ${Math.round(r.jobsPerSec)} jobs/s, server CPU ${Math.round(r.cpuUsPerJob)} µs/job`);
    }
  }
  const m = (build: 'A' | 'B', key: 'jobsPerSec' | 'cpuUsPerJob') => median(results[build].map((r) => r[key]));
  console.log(`\n${values.postgres ? 'PostgreSQL' : 'SQLite'}, ${worker} worker${values.webhooks ? ', a webhook per job' : ''}, ${jobs} jobs, medians of ${values.rounds}:`);
  console.log(`A ${builds.A}: ${Math.round(m('A', 'jobsPerSec'))} jobs/s, ${Math.round(m('A', 'cpuUsPerJob'))} µs/job`);
  console.log(`B ${builds.B}: ${Math.round(m('B', 'jobsPerSec'))} jobs/s, ${Math.round(m('B', 'cpuUsPerJob'))} µs/job`);
  console.log(`B/A: ${(m('B', 'jobsPerSec') / m('A', 'jobsPerSec')).toFixed(2)}× jobs/s, ${(m('B', 'cpuUsPerJob') / m('A', 'cpuUsPerJob')).toFixed(2)}× CPU per job`);
} finally {
  await rm(workDir, { recursive: true, force: true });
}
