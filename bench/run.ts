/**
 * Entry point of the benchmark: `npm run bench -- [options]` (i.e. `tsx bench/run.ts`).
 *
 *   --only dispatch,batch,e2e,latency,webhooks,growth   groups to run (default: all)
 *   --rounds N                                    interleaved rounds per group (default 5, quick 2)
 *   --quick                                       short smoke run: small sizes, 2 rounds
 *   --out FILE                                    results file (default bench/results/latest.json)
 *   --agentjobs-cli FILE                          server to start (default dist/cli/main.js)
 *   --baseline-cli FILE                           another build, compared on SQLite dispatch and end to end
 *   --help
 *
 * Prints one table (scenario, figure, unit, median, ratio vs the group's reference) on stdout,
 * progress on stderr, and writes every raw round with the machine description to the results
 * file. Exits 1 when a scenario failed a round or its setup.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { agentjobsScenarios } from './agentjobs/index.js';
import { describeMachine } from './lib/machine.js';
import { JOB_BRIEF_BYTES, dispatchBody, PLACEHOLDER_AGENT_ID } from './lib/payload.js';
import { runGroups, summarizeRounds, type SkippedScenario } from './lib/runner.js';
import { SCENARIO_GROUPS, type Requirement, type RunSizes, type Scenario, type ScenarioContext, type ScenarioGroup } from './lib/scenario.js';
import { probePostgres, probeRedis, type ServiceStatus } from './lib/services.js';
import { formatNumber, formatRatio, renderTable } from './lib/table.js';
import { peerScenarios } from './peers/index.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(BENCH_DIR, '..');
/** The agentjobs server the agentjobs scenarios start; they are skipped until it is built. */
const DEFAULT_AGENTJOBS_CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Full sizes: the ones the benchmark issue specifies. */
const FULL_SIZES: RunSizes = {
  throughputMs: 5_000,
  warmupMs: 2_000,
  e2eJobs: 20_000,
  latencyRate: 500,
  latencyMs: 10_000,
  growthJobs: 1_000_000,
  concurrency: 64,
};

/** Quick sizes: enough to see every scenario work end to end in a couple of minutes. */
const QUICK_SIZES: RunSizes = {
  throughputMs: 1_500,
  warmupMs: 500,
  e2eJobs: 2_000,
  latencyRate: 500,
  latencyMs: 2_000,
  growthJobs: 10_000,
  concurrency: 64,
};

const USAGE = `usage: tsx bench/run.ts [--only ${SCENARIO_GROUPS.join(',')}] [--rounds N] [--quick] [--out FILE] [--agentjobs-cli FILE] [--baseline-cli FILE]`;

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

function parseOptions(): { groups: ScenarioGroup[]; rounds: number; quick: boolean; out: string; agentjobsCli: string; baselineCli?: string } {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      'agentjobs-cli': { type: 'string' },
      'baseline-cli': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const groups = (values.only ?? SCENARIO_GROUPS.join(',')).split(',').map((g) => g.trim()).filter(Boolean);
  for (const group of groups) {
    if (!(SCENARIO_GROUPS as readonly string[]).includes(group)) {
      throw new Error(`--only: unknown group "${group}"; choose from ${SCENARIO_GROUPS.join(', ')}`);
    }
  }
  const quick = values.quick ?? false;
  const rounds = values.rounds === undefined ? (quick ? 2 : 5) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got "${values.rounds}"`);
  const out = resolve(values.out ?? join(BENCH_DIR, 'results', 'latest.json'));
  const agentjobsCli = resolve(values['agentjobs-cli'] ?? DEFAULT_AGENTJOBS_CLI);
  const baselineCli = values['baseline-cli'] === undefined ? undefined : resolve(values['baseline-cli']);
  if (baselineCli && !existsSync(baselineCli)) throw new Error(`--baseline-cli: ${baselineCli} not found`);
  return { groups: groups as ScenarioGroup[], rounds, quick, out, agentjobsCli, ...(baselineCli ? { baselineCli } : {}) };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const sizes = options.quick ? QUICK_SIZES : FULL_SIZES;
  const redis = { host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT ?? 6379) };
  const postgresUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const machineAtStart = describeMachine();

  log(`probing services`);
  const [redisStatus, postgresStatus] = await Promise.all([probeRedis(redis.host, redis.port), probePostgres(postgresUrl)]);
  const services: Record<Requirement, ServiceStatus> = {
    redis: redisStatus,
    postgres: postgresStatus,
    agentjobs: existsSync(options.agentjobsCli)
      ? { available: true }
      : { available: false, reason: `${options.agentjobsCli} not found (build the server first: npm run build)` },
  };

  const all: Scenario[] = [...peerScenarios(), ...agentjobsScenarios(options.baselineCli)];
  const skipped: SkippedScenario[] = [];
  const selected: Scenario[] = [];
  // Group order follows SCENARIO_GROUPS; within a group, the registry's order.
  for (const group of SCENARIO_GROUPS) {
    if (!options.groups.includes(group)) continue;
    for (const scenario of all.filter((s) => s.group === group)) {
      const missing = scenario.requires.filter((r) => !services[r].available);
      if (missing.length) {
        skipped.push({ scenario: scenario.id, reason: missing.map((r) => `${r}: ${services[r].reason}`).join('; ') });
      } else {
        selected.push(scenario);
      }
    }
  }

  // One note per missing service, not one per scenario: all agentjobs scenarios share one cause.
  for (const requirement of Object.keys(services) as Requirement[]) {
    if (services[requirement].available) continue;
    const ids = all.filter((s) => options.groups.includes(s.group) && s.requires.includes(requirement)).map((s) => s.id);
    if (ids.length) log(`NOTE: ${requirement} unavailable — ${services[requirement].reason}; skipping ${ids.length} scenarios (${ids.join(', ')})`);
  }

  const workDir = await mkdtemp(join(tmpdir(), 'agentjobs-bench-'));
  const ctx: ScenarioContext = { sizes, repoRoot: REPO_ROOT, agentjobsCli: options.agentjobsCli, workDir, postgresUrl, redis, log };
  log(
    `${selected.length} scenarios, ${options.rounds} rounds, ${options.quick ? 'quick' : 'full'} sizes; ` +
      `payload ${JOB_BRIEF_BYTES} B brief / ${Buffer.byteLength(JSON.stringify(dispatchBody(PLACEHOLDER_AGENT_ID)))} B dispatch body`,
  );

  let outcome;
  try {
    outcome = await runGroups({ scenarios: selected, rounds: options.rounds, ctx, roundTimeoutMs: options.quick ? 300_000 : 900_000 });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const summaries = summarizeRounds(selected, outcome.rounds);

  // The table: one line per figure; the scenario label only on its first line.
  const rows: string[][] = [];
  let previous = '';
  for (const s of summaries) {
    const reference = selected.find((x) => x.id === s.scenario)?.reference ?? false;
    rows.push([
      s.scenario === previous ? '' : `${s.label}${reference ? ' [ref]' : ''}`,
      s.figure,
      s.unit,
      formatNumber(s.median),
      `${formatNumber(s.min)}–${formatNumber(s.max)}`,
      `${s.rounds}${s.noisyRounds ? ` (${s.noisyRounds} noisy)` : ''}`,
      formatRatio(s.ratio),
    ]);
    previous = s.scenario;
  }
  const machine = describeMachine();
  console.log(
    `\n${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${options.rounds} rounds${options.quick ? ' (quick)' : ''}; ` +
      `ratio = median over rounds of (value / reference value in the same round); ` +
      `rounds = clean rounds the median is taken over\n`,
  );
  console.log(
    renderTable(
      [
        { header: 'scenario' },
        { header: 'figure' },
        { header: 'unit' },
        { header: 'median', right: true },
        { header: 'range', right: true },
        { header: 'rounds', right: true },
        { header: 'ratio vs ref', right: true },
      ],
      rows,
    ),
  );
  const notMeasured = new Map<string, string[]>();
  for (const s of [...skipped, ...outcome.failedSetups]) notMeasured.set(s.reason, [...(notMeasured.get(s.reason) ?? []), s.scenario]);
  if (notMeasured.size) console.log('');
  for (const [reason, ids] of notMeasured) console.log(`not measured: ${ids.join(', ')} — ${reason}`);
  const failedRounds = outcome.rounds.filter((r) => r.error);
  for (const r of failedRounds) console.log(`failed: ${r.scenario} round ${r.round} — ${r.error}`);

  await mkdir(dirname(options.out), { recursive: true });
  const results = {
    machine: { ...machine, loadAverageAtStart: machineAtStart.loadAverage, startedAt: machineAtStart.date },
    services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, v.available ? { available: true, ...v.info } : v])),
    options: { ...options, sizes },
    payload: { briefBytes: JOB_BRIEF_BYTES, dispatchBody: dispatchBody(PLACEHOLDER_AGENT_ID) },
    scenarios: selected.map((s) => ({
      id: s.id,
      group: s.group,
      label: s.label,
      description: s.description,
      reference: s.reference ?? false,
      config: s.config ?? {},
    })),
    skipped: [...skipped, ...outcome.failedSetups],
    teardownErrors: outcome.teardownErrors,
    rounds: outcome.rounds,
    medians: summaries,
  };
  await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`results written to ${options.out}`);
  return failedRounds.length || outcome.failedSetups.length ? 1 : 0;
}

// Ctrl-C: exit through process.exit so the 'exit' hook kills the servers this run spawned.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
