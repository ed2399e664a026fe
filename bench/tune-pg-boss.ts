/**
 * Compares pg-boss settings side by side, to pick the ones the peer scenarios use
 * (PG_BOSS_TUNING in peers/pg-boss.ts): every split of 64 jobs in flight into work() loops ×
 * batchSize, and pool sizes for `send`, in interleaved rounds like the main benchmark.
 *
 *   npx tsx bench/tune-pg-boss.ts [--rounds N] [--jobs N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runGroups, summarizeRounds } from './lib/runner.js';
import type { Scenario, ScenarioContext } from './lib/scenario.js';
import { formatNumber, formatRatio, renderTable } from './lib/table.js';
import { PG_BOSS_TUNING, pgBossEndToEnd, pgBossSend, type PgBossTuning } from './peers/pg-boss.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, jobs: { type: 'string', default: '10000' } } });
const rounds = Number(values.rounds);
const jobs = Number(values.jobs);
const log = (message: string): void => void process.stderr.write(`${message}\n`);

const splits: [number, number][] = [
  [1, 64],
  [2, 32],
  [4, 16],
  [8, 8],
  [64, 1],
];
const scenarios: Scenario[] = [];
for (const [workers, batchSize] of splits) {
  const tuning: PgBossTuning = { ...PG_BOSS_TUNING, workers, batchSize };
  const scenario = pgBossEndToEnd(tuning, `${workers}x${batchSize}`);
  // The current choice is the reference, so the ratio column reads "better or worse than now".
  scenarios.push({ ...scenario, reference: workers === PG_BOSS_TUNING.workers && batchSize === PG_BOSS_TUNING.batchSize });
}
// Without the drain-on-full-batch wake-up: what pg-boss does with its polling alone.
scenarios.push(pgBossEndToEnd({ ...PG_BOSS_TUNING, drainFullBatches: false }, 'polling-only'));
for (const poolMax of [10, 16, 32]) {
  const scenario = pgBossSend({ ...PG_BOSS_TUNING, poolMax }, `pool${poolMax}`);
  scenarios.push({ ...scenario, reference: poolMax === PG_BOSS_TUNING.poolMax });
}

const workDir = await mkdtemp(join(tmpdir(), 'agentjobs-bench-tune-'));
const ctx: ScenarioContext = {
  sizes: { throughputMs: 4000, warmupMs: 1000, e2eJobs: jobs, latencyRate: 500, latencyMs: 5000, growthJobs: 0, concurrency: 64 },
  repoRoot: resolve(dirname(fileURLToPath(import.meta.url)), '..'),
  agentjobsCli: '',
  workDir,
  postgresUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redis: { host: '127.0.0.1', port: 6379 },
  log,
};
try {
  const outcome = await runGroups({ scenarios, rounds, ctx, roundTimeoutMs: 600_000 });
  const rows = summarizeRounds(scenarios, outcome.rounds)
    .filter((s) => s.figure === 'jobs/s' || s.figure === 'accepted')
    .map((s) => [s.label, s.figure, formatNumber(s.median), `${formatNumber(s.min)}–${formatNumber(s.max)}`, formatRatio(s.ratio)]);
  console.log(
    renderTable(
      [{ header: 'setting' }, { header: 'figure' }, { header: 'median', right: true }, { header: 'range', right: true }, { header: 'vs current', right: true }],
      rows,
    ),
  );
} finally {
  await rm(workDir, { recursive: true, force: true });
}
